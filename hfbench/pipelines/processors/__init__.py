"""Capability processors, one small class per capability, registered with ``@register_processor``."""
