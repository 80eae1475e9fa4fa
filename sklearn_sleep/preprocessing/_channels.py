"""Placeholder: being implemented."""


class ChannelPicker:
    pass
