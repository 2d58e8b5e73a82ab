"""The device kinds the benefits app brings (declared in `BenefitsConfig.ready()`)."""

VENDING = "vending"
TERMINAL = "terminal"

DEVICE_KINDS = {VENDING: "智能售货机", TERMINAL: "核销终端"}
