"""Chinese labels of the accounts app's audit details (its actions are the kernel's auth.*)."""

DETAILS = {
    "method": "方式",
    "ip": "IP 地址",
}
