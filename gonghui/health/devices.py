"""The device kind the health app brings (declared in `HealthConfig.ready()`)."""

HEALTH_KIOSK = "health_kiosk"

DEVICE_KINDS = {HEALTH_KIOSK: "健康小屋设备"}
