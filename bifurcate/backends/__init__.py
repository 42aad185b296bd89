"""Optional backends that drive external continuation software (AUTO-07p through ``bifpy``)."""
