"""One module per area: authorize the caller, call a service, hand back its result."""
