"""The Albers USA layout of d3-geo's `geoAlbersUsa`, in Python, so that a jurisdiction added
today is placed at run time on the same map as the state outlines drawn once by
scripts/build_us_map.py (which uses this module too).

Three conic equal-area projections share one scale: the lower 48 states (standard parallels
29.5° and 45.5°), Alaska (55° and 65°, drawn at 0.35 of the scale, below California) and Hawaii
(8° and 18°, beside Alaska). As in d3, a point goes to the first projection whose frame holds it:
lower 48, then Alaska, then Hawaii; a point in none of them (Puerto Rico, Guam...) is not drawn.
The defaults are us-atlas's: scale 1300 and translate (487.5, 305), a 975 × 610 picture.
"""

import math

WIDTH, HEIGHT = 975, 610
SCALE = 1300
TRANSLATE = (487.5, 305.0)


class ConicEqualArea:
    """Albers' conic equal-area projection, rotated and centred as d3-geo's `geoConicEqualArea`."""

    def __init__(self, *, parallels, rotate, center, scale, translate):
        phi0, phi1 = (math.radians(p) for p in parallels)
        sin0 = math.sin(phi0)
        self.n = (sin0 + math.sin(phi1)) / 2
        self.c = 1 + sin0 * (2 * self.n - sin0)
        self.r0 = math.sqrt(self.c) / self.n
        self.rotate = math.radians(rotate)
        self.k = scale
        self.tx, self.ty = translate
        # The centre is given in rotated coordinates (d3 projects it without the rotation).
        self.cx, self.cy = self._raw(math.radians(center[0]), math.radians(center[1]))

    def _raw(self, lam, phi):
        r = math.sqrt(max(self.c - 2 * self.n * math.sin(phi), 0.0)) / self.n
        lam *= self.n
        return r * math.sin(lam), self.r0 - r * math.cos(lam)

    def __call__(self, lon, lat):
        lam = math.radians(lon) + self.rotate
        if abs(lam) > math.pi:  # back into -180°..180° after the rotation
            lam -= round(lam / math.tau) * math.tau
        x, y = self._raw(lam, math.radians(lat))
        return self.tx + self.k * (x - self.cx), self.ty - self.k * (y - self.cy)


class AlbersUsa:
    def __init__(self, scale=SCALE, translate=TRANSLATE):
        k = scale
        x, y = translate
        self.lower48 = ConicEqualArea(
            parallels=(29.5, 45.5), rotate=96, center=(-0.6, 38.7), scale=k, translate=(x, y)
        )
        self.alaska = ConicEqualArea(
            parallels=(55, 65),
            rotate=154,
            center=(-2, 58.5),
            scale=k * 0.35,
            translate=(x - 0.307 * k, y + 0.201 * k),
        )
        self.hawaii = ConicEqualArea(
            parallels=(8, 18),
            rotate=157,
            center=(-3, 19.9),
            scale=k,
            translate=(x - 0.205 * k, y + 0.212 * k),
        )
        # The frames (x0, y0, x1, y1) that decide which projection a point belongs to (d3's clip extents).
        self.frames = (
            (self.lower48, (x - 0.455 * k, y - 0.238 * k, x + 0.455 * k, y + 0.238 * k)),
            (self.alaska, (x - 0.425 * k, y + 0.120 * k, x - 0.214 * k, y + 0.234 * k)),
            (self.hawaii, (x - 0.214 * k, y + 0.166 * k, x - 0.115 * k, y + 0.234 * k)),
        )

    def __call__(self, lon, lat):
        """(x, y) in the picture, or None for a point outside the three frames."""
        for project, (x0, y0, x1, y1) in self.frames:
            x, y = project(lon, lat)
            if x0 <= x <= x1 and y0 <= y <= y1:
                return x, y
        return None

    def for_state(self, fips):
        """The one projection of a state's outline (its pieces are never split between frames)."""
        return {"02": self.alaska, "15": self.hawaii}.get(fips, self.lower48)


albers_usa = AlbersUsa()
