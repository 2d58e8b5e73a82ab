"""QR codes as `data:` URIs for an `<img src>`: the one way the product draws a QR (member card,
coupon, TOTP enrolment).

A standalone SVG must declare the SVG namespace (`xmlns`), or a browser loading it as an image
sees an unknown XML document and shows a broken image; segno's `svg_data_uri` writes it."""

import segno


def qr_data_uri(text: str, *, scale: int = 6, border: int = 2) -> str:
    return str(segno.make(text, error="m").svg_data_uri(scale=scale, border=border, svgns=True))
