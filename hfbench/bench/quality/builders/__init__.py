"""The built-in eval sets, one module per data source (listed in ``datasets.BUILTIN_BUILDERS``,
which imports them: each registers its sets with ``@register_eval_set``)."""
