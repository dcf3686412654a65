"""The model system: architectures, capabilities, the config tree, errors, hardware.

Pure: nothing here downloads, converts or runs pip (that is ``hfbench.sources``), and nothing
imports torch or transformers at module level.
"""
