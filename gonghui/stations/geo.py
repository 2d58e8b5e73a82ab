"""Coordinates: WGS-84 in the database, GCJ-02 at the edges, distances, and the grid cells the
nearest-station search reads through an index.

GCJ-02 (国测局坐标, "Mars coordinates") is the obfuscated system that 高德, 腾讯 and every map
licensed in China draws in: a WGS-84 point shifted by a few hundred metres by a published
polynomial on the Krasovsky ellipsoid. The forward shift is the well-known formula; its
inverse has no closed form and is found by fixed-point iteration (each step corrects the guess
by the shift's error at it), to well under a centimetre. Outside the rough rectangle of China
the usual implementations leave a point unchanged, and so do these.
"""

import math

# The Krasovsky 1940 ellipsoid the GCJ-02 offset is computed on.
_A = 6378245.0
_EE = 0.00669342162296594323

# The rectangle the usual implementations treat as China (wider than the border, on purpose:
# they agree on it, so a point converts the same way here as in a map provider's SDK).
CHINA_LAT = (0.8293, 55.8271)
CHINA_LNG = (72.004, 137.8347)

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
WALKING_M_PER_MIN = 75.0  # about 4.5 km/h

# The search grid: cells of CELL_DEG degrees, numbered row-major (see `cell_of`).
CELL_DEG = 0.01
_COLUMNS = 36_000  # 360 / CELL_DEG


def out_of_china(lat: float, lng: float) -> bool:
    return not (CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LNG[0] <= lng <= CHINA_LNG[1])


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _delta(lat: float, lng: float) -> tuple[float, float]:
    """The GCJ-02 offset (degrees of latitude, of longitude) at a WGS-84 point."""
    d_lat = _shift_lat(lng - 105.0, lat - 35.0)
    d_lng = _shift_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return d_lat, d_lng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """A WGS-84 point (a phone's GPS) as 高德/腾讯 maps draw it."""
    if out_of_china(lat, lng):
        return lat, lng
    d_lat, d_lng = _delta(lat, lng)
    return lat + d_lat, lng + d_lng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """A point picked on a 高德/腾讯 map, as WGS-84: the WGS-84 point whose shift lands on it,
    by iteration (converges in a handful of steps; stops below 1e-9 degrees, about 0.1 mm)."""
    if out_of_china(lat, lng):
        return lat, lng
    guess_lat, guess_lng = lat, lng
    for _ in range(30):
        shifted_lat, shifted_lng = wgs84_to_gcj02(guess_lat, guess_lng)
        err_lat, err_lng = shifted_lat - lat, shifted_lng - lng
        guess_lat -= err_lat
        guess_lng -= err_lng
        if abs(err_lat) < 1e-9 and abs(err_lng) < 1e-9:
            break
    return guess_lat, guess_lng


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine on the mean sphere)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def walking_minutes(metres: float) -> int:
    """A walking time for the straight-line distance, at least one minute."""
    return max(1, math.ceil(metres / WALKING_M_PER_MIN))


def distance_label(metres: float) -> str:
    if metres < 1000:
        return "%d 米" % round(metres)
    return "%.1f 公里" % (metres / 1000)


def cell_row(lat: float) -> int:
    return math.floor((lat + 90.0) / CELL_DEG)


def cell_column(lng: float) -> int:
    return math.floor((lng + 180.0) / CELL_DEG)


def cell_of(lat: float, lng: float) -> int:
    """The grid cell of a point: rows of latitude times the columns of a row, plus the column,
    so the cells of one row side by side are consecutive integers (one range per row)."""
    return cell_row(lat) * _COLUMNS + cell_column(lng)


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a box that holds every point within `radius_m` of the
    centre: the longitude span is taken at the box's latitude farthest from the equator."""
    d_lat = math.degrees(radius_m / EARTH_RADIUS_M)
    south, north = max(-90.0, lat - d_lat), min(90.0, lat + d_lat)
    widest = max(abs(south), abs(north))
    if widest >= 89.9:
        return south, north, -180.0, 180.0
    d_lng = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(widest))))
    return south, north, max(-180.0, lng - d_lng), min(180.0, lng + d_lng)


def _box_cells(lat: float, lng: float, radius_m: float) -> tuple[range, int, int]:
    """The rows of cells and the first and last column covering `bounding_box`."""
    south, north, west, east = bounding_box(lat, lng, radius_m)
    rows = range(cell_row(south), cell_row(north) + 1)
    return rows, cell_column(west), min(cell_column(east), _COLUMNS - 1)


def cell_ranges(lat: float, lng: float, radius_m: float, *, read_m: float | None = None) -> list[tuple[int, int]]:
    """The cell ranges (first, last) covering `bounding_box`: one per row of the grid. With
    `read_m` (a smaller radius whose box was read already), only the cells of the larger box
    outside the smaller one: the rows above and below it whole, and the ends of its rows on
    either side (the box grows with the radius on every side, so the two never overlap)."""
    rows, first_col, last_col = _box_cells(lat, lng, radius_m)
    if read_m is None:
        return [(row * _COLUMNS + first_col, row * _COLUMNS + last_col) for row in rows]
    read_rows, read_first, read_last = _box_cells(lat, lng, read_m)
    out = []
    for row in rows:
        base = row * _COLUMNS
        if row not in read_rows:
            out.append((base + first_col, base + last_col))
            continue
        if first_col < read_first:
            out.append((base + first_col, base + read_first - 1))
        if read_last < last_col:
            out.append((base + read_last + 1, base + last_col))
    return out
