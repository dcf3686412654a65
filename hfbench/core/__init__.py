"""The model system: architectures, capabilities, the config tree, errors, hardware, embedded models.

Nothing here imports torch or transformers at module level.
"""
