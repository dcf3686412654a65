"""Model recommendations per capability and size tier, with hardware-fit checks."""
