"""Multi-GPU / multi-node training of any network through Hugging Face ``accelerate``.

skorch's :class:`skorch.hf.AccelerateMixin` hands device placement, distributed data
parallelism (one process per GPU, gradients all-reduced every step), sharded data
loading and mixed precision to an :class:`accelerate.Accelerator`.
:class:`SleepNetAccelerateMixin` adapts it to :class:`SleepNetClassifier` (seeding,
label handling and input checks kept), and :class:`AcceleratedSleepNetClassifier` is
the ready-made combination. The ``accelerate`` package is an optional extra
(``pip install "sklearn-sleep[accelerate]"``); it is imported only by
:func:`make_accelerator`.

A script trained with ``accelerate launch --multi_gpu --num_processes 4 train.py``
(see ``docs/scaling.md``) runs one copy per GPU; every copy ends with the same weights.
"""

import functools

import torch
from skorch.hf import AccelerateMixin

from ._base import SleepNetClassifier

__all__ = ["AcceleratedSleepNetClassifier", "SleepNetAccelerateMixin", "make_accelerator"]


def make_accelerator(**kwargs):
    """An :class:`accelerate.Accelerator`, with an error naming the extra if missing.

    Parameters
    ----------
    **kwargs
        Passed to :class:`accelerate.Accelerator`, e.g. ``mixed_precision="bf16"``,
        ``cpu=True`` or ``gradient_accumulation_steps=4``.

    Returns
    -------
    accelerator : accelerate.Accelerator

    Raises
    ------
    ImportError
        If ``accelerate`` is not installed.
    """
    try:
        from accelerate import Accelerator
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Accelerated training needs the 'accelerate' package: "
            "pip install 'sklearn-sleep[accelerate]'."
        ) from exc
    return Accelerator(**kwargs)


def _print_if(print_func, verbose, *args, **kwargs):
    """``print_func(*args, **kwargs)`` when ``verbose`` (the epoch table's sink)."""
    if verbose:
        print_func(*args, **kwargs)


class SleepNetAccelerateMixin(AccelerateMixin):
    """:class:`skorch.hf.AccelerateMixin` for :class:`SleepNetClassifier` subclasses.

    Put it first among the bases of any classifier of :mod:`sklearn_sleep.models` to
    train that network (with its paper's recipe) through ``accelerate``, e.g.
    ``class AcceleratedULW(SleepNetAccelerateMixin, ULWSleepNetClassifier): pass``.

    Parameters
    ----------
    *args, **kwargs
        Those of the classifier it is mixed into.
    accelerator : accelerate.Accelerator
        Created in every process, e.g. with :func:`make_accelerator`.
    device : None, default=None
        Device placement is the accelerator's (one device per process).
    unwrap_after_train : bool, default=True
        Unwrap the module after training (needed to save it and predict plainly).
    callbacks__print_log__sink : "auto" or callable, default="auto"
        ``"auto"`` prints only on the main process.

    Notes
    -----
    * Mixed precision is the accelerator's: ``Accelerator(mixed_precision="bf16")``;
      the classifier's own ``mixed_precision`` must stay ``False``.
    * ``random_state`` seeds every process identically, so all processes start from
      the same weights (DistributedDataParallel also broadcasts rank 0's weights).
    * Each process holds the whole data set (or a memory-mapped store); the prepared
      data loader gives each process its shard of every epoch. ``predict_proba``
      gathers the predictions of all processes.
    * As with skorch's mixin, an accelerated net does not pickle (the accelerator
      does not): save the weights with ``save_params`` (main process only) or
      ``module_.state_dict()`` and load them into the plain classifier.
    """

    def initialize(self):
        """Initialise as :class:`SleepNetClassifier` does, then prepare with accelerate."""
        if getattr(self, "accelerator", None) is None:
            raise ValueError(
                "accelerator is None: pass accelerator=make_accelerator(...) (needs "
                "pip install 'sklearn-sleep[accelerate]')."
            )
        if self.mixed_precision:
            raise ValueError(
                "With accelerate, set mixed precision on the accelerator "
                "(make_accelerator(mixed_precision='bf16')) and keep mixed_precision=False."
            )
        # SleepNetClassifier.initialize (seeding, checks) -> skorch's NeuralNet.initialize;
        # AccelerateMixin.initialize replaces the latter without calling it, hence:
        super(AccelerateMixin, self).initialize()
        # every component was just re-created: wrap them again (skorch's flag would
        # otherwise leave a re-initialised module unwrapped, i.e. unsynchronised)
        self._wrapped_with_accelerator = False
        self._initialize_accelerator()
        self.device_ = str(self.accelerator.device)
        return self


    def _initialize_callbacks(self):
        # skorch's mixin sends the epoch table to accelerator.print whatever `verbose`
        # is (PrintLog honours verbose only for its default sink); keep verbose=0 quiet
        if self.callbacks__print_log__sink == "auto":
            self.callbacks__print_log__sink = functools.partial(
                _print_if, getattr(self.accelerator, "print", print), bool(self.verbose))
        return super()._initialize_callbacks()

    def _initialize_accelerator(self):
        # A criterion without trainable parameters (all of ours) is not prepared:
        # DistributedDataParallel refuses modules without parameters. It is only moved
        # to the process's device (class weights are buffers).
        if self._wrapped_with_accelerator:
            return self
        plain = {}
        for name in self._criteria:
            crit = getattr(self, name + "_")
            if isinstance(crit, torch.nn.Module) and not any(
                p.requires_grad for p in crit.parameters()
            ):
                plain[name] = crit.to(self.accelerator.device)
                setattr(self, name + "_", None)
        try:
            super()._initialize_accelerator()
        finally:
            for name, crit in plain.items():
                setattr(self, name + "_", crit)
        return self


class AcceleratedSleepNetClassifier(SleepNetAccelerateMixin, SleepNetClassifier):
    """:class:`SleepNetClassifier` trained through Hugging Face ``accelerate``.

    Multi-GPU and multi-node data-parallel training (and CPU multi-process training
    with the gloo backend) of any sleep-staging module; launch the script with
    ``accelerate launch`` (see ``docs/scaling.md``). For a library network with its
    paper's recipe, mix :class:`SleepNetAccelerateMixin` into its classifier instead.

    Parameters
    ----------
    module : type of torch.nn.Module
        The network class, as for :class:`SleepNetClassifier`.
    accelerator : accelerate.Accelerator
        E.g. ``make_accelerator()`` or ``make_accelerator(mixed_precision="bf16")``.
    device : None, default=None
        Left to the accelerator.
    **kwargs
        Any other :class:`SleepNetClassifier` / skorch argument.

    See Also
    --------
    SleepNetAccelerateMixin : the mixin, its notes and limits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sleep.models import (AcceleratedSleepNetClassifier, ULWSleepNet,
    ...                                   make_accelerator)
    >>> X = np.random.default_rng(0).standard_normal((8, 4, 3000)).astype("float32")
    >>> y = np.array(["W", "N1", "N2", "N3", "REM", "W", "N2", "REM"])
    >>> clf = AcceleratedSleepNetClassifier(
    ...     ULWSleepNet, accelerator=make_accelerator(cpu=True), max_epochs=1,
    ...     random_state=0).fit(X, y)
    >>> clf.predict(X).shape
    (8,)
    """
