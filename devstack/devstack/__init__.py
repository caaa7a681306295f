"""The development stack: how each real component starts on one machine."""
