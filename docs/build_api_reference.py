"""Generate ``docs/api_reference.md`` from the numpydoc docstrings of the public API.

The public API is the ``__all__`` of every subpackage and top-level module listed in
:data:`MODULES`. For each public name the page shows its signature and its docstring,
with the numpydoc sections turned into Markdown (parameter lists as bullet lists,
examples as Python code blocks). Classes also list their public methods.

Usage::

    python docs/build_api_reference.py            # rewrite docs/api_reference.md
    python docs/build_api_reference.py --check    # exit 1 if the file is out of date

``tests/test_docs.py`` fails when the committed page differs from the generated one.
"""

import argparse
import importlib
import inspect
import re
import sys
import textwrap
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "api_reference.md"

#: Public modules, in page order.
MODULES = (
    "sklearn_sleep.datasets",
    "sklearn_sleep.preprocessing",
    "sklearn_sleep.features",
    "sklearn_sleep.models",
    "sklearn_sleep.smoothing",
    "sklearn_sleep.metrics",
    "sklearn_sleep.hypnogram",
    "sklearn_sleep.plotting",
    "sklearn_sleep.persistence",
    "sklearn_sleep.cli",
    "sklearn_sleep.utils",
    "sklearn_sleep.utils.estimator_checks",
)

#: numpydoc sections rendered as "name : type" + description lists.
LIST_SECTIONS = ("Parameters", "Other Parameters", "Returns", "Yields", "Attributes",
                 "Raises", "Warns")

#: Methods listed for classes (when defined or overridden by the library).
PUBLIC_METHODS = ("fit", "partial_fit", "transform", "fit_transform", "inverse_transform",
                  "predict", "predict_proba", "score", "fit_resample", "segment", "save",
                  "get_feature_names_out", "forward")

_SECTION_RE = re.compile(r"^(?P<title>[A-Z][A-Za-z ]+)\n-{3,}\s*$", re.MULTILINE)


def public_names(module_name):
    """``[(name, object)]`` of ``module.__all__`` in order."""
    module = importlib.import_module(module_name)
    return module, [(name, getattr(module, name)) for name in module.__all__]


def kind_of(obj):
    """``"class"``, ``"function"`` or ``"data"`` (constants, scorer objects...)."""
    if inspect.isclass(obj):
        return "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function"
    return "data"


def _clean_repr(text):
    """Make signatures deterministic and short: no memory addresses or module paths."""
    text = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", text)
    text = re.sub(r"<function ([\w.<>]+) at 0x[0-9a-f]+>", r"\1", text)
    text = re.sub(r"<built-in function (\w+)>", r"\1", text)
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def signature(obj, name):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return f"{name}(...)"
    return _clean_repr(f"{name}{sig}")


def takes_parameters(obj):
    """True if calling ``obj`` (or constructing the class) takes any argument."""
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "cls") for p in params.values())


def split_sections(doc):
    """``(preamble, [(title, body), ...])`` of a numpydoc docstring."""
    matches = list(_SECTION_RE.finditer(doc))
    if not matches:
        return doc.strip(), []
    sections = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(doc)
        sections.append((m.group("title").strip(), doc[m.end():end].strip("\n")))
    return doc[: matches[0].start()].strip(), sections


def rst_to_md(text):
    """Inline RST -> Markdown: roles and double back-quotes become code spans."""
    text = re.sub(r":(?:func|class|meth|mod|attr|data|obj|ref|doc|term):`~?([^`]+)`",
                  r"`\1`", text)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    text = re.sub(r"\.\. \[(\w+)\]", r"[\1]", text)  # citation labels
    return re.sub(r"\[(\w+)\]_", r"[\1]", text)


def _render_list(body):
    """numpydoc ``name : type`` + indented description -> Markdown bullet list."""
    items, current = [], None
    for line in body.splitlines():
        if line.strip() == "":
            if current is not None:
                current[1].append("")
            continue
        if not line.startswith((" ", "\t")):
            current = [line.strip(), []]
            items.append(current)
        elif current is not None:
            current[1].append(line.strip())
        else:  # description without a header line
            current = ["", [line.strip()]]
            items.append(current)
    out = []
    for header, desc in items:
        name, _, typ = header.partition(" : ")
        head = f"**{rst_to_md(name.strip())}**" if name else ""
        if typ:
            head += f" : *{rst_to_md(typ.strip())}*"
        text = " ".join(d for d in desc if d).strip()
        text = rst_to_md(text)
        if head and text:
            out.append(f"- {head} — {text}")
        elif head:
            out.append(f"- {head}")
        elif text:
            out.append(f"- {text}")
    return "\n".join(out)


def _render_examples(body):
    lines = [ln for ln in textwrap.dedent(body).splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    return "```python\n" + "\n".join(lines) + "\n```"


def _render_text(body):
    body = textwrap.dedent(body).strip()
    # keep literal blocks ("::" paragraphs / indented blocks) readable as code
    out, in_code = [], False
    for line in body.splitlines():
        if line.startswith("    ") and (in_code or (out and out[-1].rstrip().endswith("::"))):
            if not in_code:
                out.append("```")
                in_code = True
            out.append(line[4:])
            continue
        if in_code and line.strip():
            out.append("```")
            in_code = False
        out.append(rst_to_md(line.replace("::", ":") if line.rstrip().endswith("::")
                             else line))
    if in_code:
        out.append("```")
    return "\n".join(out)


def _render_references(body):
    """``.. [1] Author ...`` entries (with continuation lines) -> one bullet each."""
    entries = []
    for line in textwrap.dedent(body).splitlines():
        if line.lstrip().startswith(".. [") or not entries:
            entries.append(line.strip())
        elif line.strip():
            entries[-1] += " " + line.strip()
    return "\n".join(f"- {rst_to_md(e)}" for e in entries if e)


def render_docstring(doc):
    """Markdown for a whole numpydoc docstring."""
    preamble, sections = split_sections(doc)
    parts = [_render_text(preamble)] if preamble else []
    for title, body in sections:
        if title in LIST_SECTIONS:
            rendered = _render_list(body)
        elif title == "Examples":
            rendered = _render_examples(body)
        elif title == "See Also":
            rendered = _render_list(body)
        elif title == "References":
            rendered = _render_references(body)
        else:
            rendered = _render_text(body)
        parts.append(f"**{title}**\n\n{rendered}")
    return "\n\n".join(parts)


def _methods(cls):
    rows = []
    for meth in PUBLIC_METHODS:
        func = getattr(cls, meth, None)
        if func is None or not callable(func):
            continue
        owner = next((k for k in cls.__mro__ if meth in vars(k)), None)
        if owner is None or not owner.__module__.startswith("sklearn_sleep"):
            continue  # inherited from scikit-learn / skorch / torch: documented there
        doc = inspect.getdoc(func) or ""
        summary = rst_to_md(doc.strip().split("\n\n")[0].replace("\n", " ")) if doc else ""
        rows.append(f"- `{signature(func, meth).replace('(self, ', '(').replace('(self)', '()')}`"
                    + (f" — {summary}" if summary else ""))
    return rows


def render_name(module_name, name, obj):
    kind = kind_of(obj)
    lines = [f"### `{name}`", ""]
    if kind == "data":
        value = _clean_repr(repr(obj))
        if len(value) > 300:
            value = value[:300] + " ..."
        lines += [f"*{type(obj).__name__}* `{module_name}.{name}`", "", "```python",
                  f"{name} = {value}", "```", ""]
        return "\n".join(lines)
    lines += [f"*{kind}* `{module_name}.{name}`", "", "```python",
              signature(obj, name), "```", ""]
    doc = inspect.getdoc(obj)
    lines.append(render_docstring(doc) if doc else "*(no docstring)*")
    lines.append("")
    if kind == "class":
        methods = _methods(obj)
        if methods:
            lines += ["**Methods**", "", *methods, ""]
    return "\n".join(lines)


def build():
    """Return the whole Markdown page as a string."""
    toc, body = [], []
    for module_name in MODULES:
        module, names = public_names(module_name)
        anchor = module_name.replace(".", "")
        toc.append(f"- [`{module_name}`](#{anchor}): "
                   + ", ".join(f"`{n}`" for n, _ in names))
        doc = inspect.getdoc(module) or ""
        summary = rst_to_md(doc.split("\n\n")[0].replace("\n", " ")) if doc else ""
        body += [f"## `{module_name}`", "", summary, ""]
        for name, obj in names:
            body.append(render_name(module_name, name, obj))
    header = [
        "# API reference",
        "",
        "<!-- GENERATED by docs/build_api_reference.py from the docstrings: do not edit by "
        "hand; run `python docs/build_api_reference.py` after changing a docstring. -->",
        "",
        "Every public name (the `__all__` of each module below) with its signature and "
        "docstring. Epoch arrays are `(n_epochs, n_channels, n_times)` float32 in "
        "microvolts throughout. See the [user guide](user_guide.md) for how the pieces fit "
        "together and [networks](networks.md) for what each network reproduces.",
        "",
        "## Contents",
        "",
        *toc,
        "",
    ]
    text = "\n".join(header + body)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip() + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if docs/api_reference.md is out of date")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date: run python docs/build_api_reference.py")
            return 1
        print(f"{OUTPUT} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
