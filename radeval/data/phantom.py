"""Phantom CT-RATE: small synthetic chest CTs in HU with visible findings, in CT-RATE's exact file layout.

:func:`make_phantom_dataset` writes the reports, labels and metadata CSVs and the ``train_fixed``/``valid_fixed``
volume tree that :class:`radeval.data.ctrate.CTRateDataset` reads. Every one of the 18 CT-RATE labels is
drawn into the volume (:func:`synthesize_chest`) and written into the findings text
(:mod:`radeval.data.phantom_reports`), so a label head trained on the volumes and a labeler run on the
reports both have something real to learn.

Volumes are stored like CT-RATE's: int16 stored values with ``HU = RescaleSlope * v + RescaleIntercept``
(slope 1, intercept -1024 in the metadata CSV), voxel spacing in the NIfTI affine and the metadata.
Coordinates: array axes (X, Y, Z) = (patient right -> left, anterior -> posterior, inferior -> superior).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from radeval.csv_safe import rows_to_csv
from radeval.data.ctrate import METADATA_COLUMNS, REPORT_COLUMNS, SPLIT_FILES, VOLUME_DIRS, VolumeName
from radeval.data.labels import CTRATE_LABELS, INSPECT_LABELS
from radeval.data.phantom_inspect import draw_inspect_labels, render_inspect_impression
from radeval.data.phantom_reports import (CLINICAL_INFORMATION, TECHNIQUE, render_findings,
                                          render_impressions)
from radeval.errors import InputError
from radeval.paths import atomic_write_text

#: Default phantom grid (X, Y, Z) and field of view in mm: a whole adult chest at coarse resolution.
DEFAULT_SHAPE: tuple[int, int, int] = (64, 64, 48)
DEFAULT_FOV_MM: tuple[float, float, float] = (352.0, 352.0, 288.0)
#: Stored value = HU - intercept, as CT scanners write it.
RESCALE_INTERCEPT = -1024.0
RESCALE_SLOPE = 1.0

_AIR, _FAT, _SOFT, _FLUID, _LUNG = -1000.0, -95.0, 42.0, 10.0, -860.0
#: Version of the ``textured`` drawing (1: lung-density textures; 2: + the visible focal findings; 3: + the
#: shapes of :func:`_draw_distinct_shapes`). Caches of textured phantom datasets are keyed by it, so a changed
#: drawing is redrawn, never served from an old folder.
TEXTURED_VERSION = 3
#: The keyword options of :func:`make_phantom_dataset` besides ``out``, ``n``, ``seed``, ``spacing`` and ``progress``:
#: what a suite's phantom dataset (and the sets drawn like it) may set.
PHANTOM_OPTIONS: tuple[str, ...] = ("labels", "shape", "negation_rate", "valid_fraction", "textured", "prevalence",
                                    "noise_hu", "recon_rate")
_DEVICES = ("a central venous catheter", "a cardiac pacemaker", "median sternotomy wires")


class _Canvas:
    """An HU volume with mm coordinates of every voxel centre (broadcastable open grids)."""

    def __init__(self, shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> None:
        nx, ny, nz = shape
        sx, sy, sz = spacing
        self.x = ((np.arange(nx) - (nx - 1) / 2) * sx).reshape(-1, 1, 1)
        self.y = ((np.arange(ny) - (ny - 1) / 2) * sy).reshape(1, -1, 1)
        self.z = ((np.arange(nz) - (nz - 1) / 2) * sz).reshape(1, 1, -1)
        self.hu = np.full(shape, _AIR, dtype=np.float32)
        self.shape = shape

    def ellipsoid(self, centre: Sequence[float], radii: Sequence[float]) -> np.ndarray:
        cx, cy, cz = centre
        rx, ry, rz = radii
        return ((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 + ((self.z - cz) / rz) ** 2 <= 1.0

    def cylinder_z(self, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        return np.broadcast_to(((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 <= 1.0, self.shape)

    def tube(self, p0: Sequence[float], p1: Sequence[float], radius: float) -> np.ndarray:
        """Voxels within ``radius`` mm of the segment p0-p1."""
        a = np.asarray(p0, dtype=np.float64)
        b = np.asarray(p1, dtype=np.float64)
        d = b - a
        length2 = float(d @ d) or 1e-9
        out = np.zeros(self.shape, dtype=bool)
        box = []
        for coord, lo, hi in zip((self.x.ravel(), self.y.ravel(), self.z.ravel()), np.minimum(a, b), np.maximum(a, b)):
            inside = np.flatnonzero((coord >= lo - radius) & (coord <= hi + radius))
            if inside.size == 0:
                return out
            box.append(slice(int(inside[0]), int(inside[-1]) + 1))
        rx = self.x[box[0]] - a[0]
        ry = self.y[:, box[1]] - a[1]
        rz = self.z[:, :, box[2]] - a[2]
        t = np.clip((rx * d[0] + ry * d[1] + rz * d[2]) / length2, 0.0, 1.0)
        dist2 = (rx - t * d[0]) ** 2 + (ry - t * d[1]) ** 2 + (rz - t * d[2]) ** 2
        out[box[0], box[1], box[2]] = dist2 <= radius * radius
        return out

    def paint(self, mask: np.ndarray, value: float) -> None:
        self.hu[np.broadcast_to(mask, self.shape)] = value


@dataclass
class PhantomAnatomy:
    """Patient-specific geometry (mm) the findings are placed relative to."""

    scale: float
    lungs: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = field(default_factory=dict)
    heart: tuple[tuple[float, float, float], tuple[float, float, float]] = ((0, 0, 0), (1, 1, 1))


def _lung_point(rng: np.random.Generator, anatomy: PhantomAnatomy, side: str, zone: str) -> np.ndarray:
    """A random point well inside one lung, in its upper/lower/any zone."""
    centre, radii = anatomy.lungs[side]
    lo, hi = {"upper": (0.15, 0.6), "lower": (-0.6, -0.15), "any": (-0.55, 0.55)}[zone]
    u = np.array([rng.uniform(-0.45, 0.45), rng.uniform(-0.45, 0.45), rng.uniform(lo, hi)])
    return np.asarray(centre) + u * np.asarray(radii)


def _lobe(side: str, zone: str, rng: np.random.Generator) -> str:
    if zone == "upper":
        return "upper lobe"
    if zone == "lower":
        return "lower lobe"
    options = ("upper lobe", "middle lobe", "lower lobe") if side == "right" else ("upper lobe", "lower lobe")
    return str(options[rng.integers(len(options))])


@dataclass
class _Chest:
    """One chest being drawn: the canvas, the random stream, the positive labels and what has been placed.

    The drawing steps below run in a fixed order and each consumes ``rng`` in a fixed order, so a seed
    always gives the same volume (splitting the steps out must not change a single voxel).
    """

    canvas: _Canvas
    rng: np.random.Generator
    positives: set[str]
    anatomy: PhantomAnatomy
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    lung_masks: dict[str, np.ndarray] = field(default_factory=dict)
    top: float = 0.0

    @property
    def scale(self) -> float:
        return self.anatomy.scale

    @property
    def lung_any(self) -> np.ndarray:
        return self.lung_masks["right"] | self.lung_masks["left"]


def _draw_body_wall(chest: _Chest) -> None:
    """Subcutaneous fat, muscle, the rib ring (in rows along z) and the fat lining the thoracic cavity."""
    c, s = chest.canvas, chest.scale
    c.paint(c.cylinder_z(0, 0, 150 * s, 112 * s), _FAT)
    c.paint(c.cylinder_z(0, 0, 136 * s, 99 * s), _SOFT)
    rib_ring = c.cylinder_z(0, 0, 131 * s, 94 * s) & ~c.cylinder_z(0, 0, 124 * s, 87 * s)
    rib_rows = np.broadcast_to(np.cos(2 * np.pi * c.z / 30.0) > 0.35, c.shape)
    c.paint(rib_ring & rib_rows, 520.0)
    c.paint(c.cylinder_z(0, 0, 123 * s, 86 * s), _FAT)


def _draw_lungs(chest: _Chest) -> None:
    """Both lungs, with the diffuse parenchymal patterns (emphysema, mosaic attenuation, septal thickening)."""
    c, rng, pos = chest.canvas, chest.rng, chest.positives
    lungs = chest.anatomy.lungs
    chest.lung_masks = {side: c.ellipsoid(*geo) for side, geo in lungs.items()}
    lung_any = chest.lung_any
    lung_hu = np.full(c.shape, _LUNG, dtype=np.float32)
    if "Emphysema" in pos:
        lung_hu[:] = -915.0
        for _ in range(int(rng.integers(25, 40))):
            side = ("right", "left")[int(rng.integers(2))]
            p = _lung_point(rng, chest.anatomy, side, "upper" if rng.random() < 0.7 else "any")
            lung_hu[c.ellipsoid(p, (rng.uniform(7, 12),) * 3)] = -995.0
    if "Mosaic attenuation pattern" in pos:
        phase = rng.uniform(0, 2 * np.pi, 3)
        pattern = np.sin(c.x / 24 + phase[0]) * np.sin(c.y / 24 + phase[1]) * np.sin(c.z / 26 + phase[2])
        lung_hu += np.where(pattern > 0, 120.0, -100.0).astype(np.float32)
    if "Interlobular septal thickening" in pos:
        grid = np.zeros(c.shape, dtype=bool)
        for coord, step in ((c.x, 14.0), (c.y, 14.0), (c.z, 15.0)):
            grid |= np.broadcast_to(np.abs(np.mod(coord, step) - step / 2) < 1.8, c.shape)
        for side, (centre, radii) in lungs.items():
            r2 = sum(((g - ce) / ra) ** 2 for g, ce, ra in zip((c.x, c.y, c.z), centre, radii))
            lung_hu[np.broadcast_to(r2 > 0.55, c.shape) & chest.lung_masks[side] & grid] = -300.0
    c.hu[lung_any] = lung_hu[lung_any]


def _draw_airways(chest: _Chest) -> None:
    """Trachea, main bronchi and segmental bronchi (normal, peribronchial thickening, bronchiectasis)."""
    c, rng, pos, s = chest.canvas, chest.rng, chest.positives, chest.scale
    lung_any = chest.lung_any
    top = chest.top
    c.paint(c.tube((0, -2 * s, top), (0, 4 * s, 38), 8.5 * s), _AIR)
    for sx_ in (-1, 1):
        c.paint(c.tube((0, 4 * s, 38), (sx_ * 44 * s, 10 * s, 12), 5.5 * s), _AIR)
    bronchi = [((sx_ * 44 * s, 10 * s, 12), (sx_ * rng.uniform(70, 95) * s, rng.uniform(-20, 45) * s,
                                              rng.uniform(-70, 60)))
               for sx_ in (-1, 1) for _ in range(4)]
    if "Peribronchial thickening" in pos:
        for p0, p1 in bronchi:
            c.paint(c.tube(p0, p1, 5.5) & lung_any, 35.0)
            c.paint(c.tube(p0, p1, 2.2) & lung_any, _AIR)
    else:
        for p0, p1 in bronchi:
            c.paint(c.tube(p0, p1, 2.0) & lung_any, -960.0)
    if "Bronchiectasis" in pos:
        side = ("right", "left", "both")[int(rng.integers(3))]
        chest.details["Bronchiectasis"] = {"side": side if side != "both" else "right"}
        sides = ("right", "left") if side == "both" else (side,)
        for sd in sides:
            for _ in range(3):
                p0 = _lung_point(rng, chest.anatomy, sd, "lower")
                p1 = p0 + rng.normal(0, 1, 3) * np.array([12, 12, 25])
                c.paint(c.tube(p0, p1, 10.0) & lung_any, 25.0)
                c.paint(c.tube(p0, p1, 7.5) & lung_any, _AIR)


def _aorta_segments(s: float) -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """The thoracic aorta's centre line (ascending, arch, descending) as straight segments, mm; radius 13 mm x s."""
    return [((6 * s, -14 * s, -25), (6 * s, -14 * s, 62)), ((6 * s, -14 * s, 62), (-14 * s, 30 * s, 78)),
            ((-14 * s, 30 * s, 78), (-22 * s, 46 * s, 60)), ((-22 * s, 46 * s, 60), (-22 * s, 46 * s, -140))]


def _draw_esophagus_and_aorta(chest: _Chest) -> None:
    """The esophagus and the thoracic aorta, with arterial wall calcifications when positive."""
    c, rng, s, top = chest.canvas, chest.rng, chest.scale, chest.top
    c.paint(c.tube((-12 * s, 40 * s, top), (-10 * s, 42 * s, -125), 7 * s), _SOFT)
    c.paint(c.tube((-12 * s, 40 * s, top), (-10 * s, 42 * s, -125), 2.5 * s), _AIR)
    aorta = _aorta_segments(s)
    r_aorta = 13.0 * s
    for p0, p1 in aorta:
        c.paint(c.tube(p0, p1, r_aorta), _SOFT)
    if "Arterial wall calcification" in chest.positives:
        for _ in range(int(rng.integers(5, 9))):
            p0, p1 = aorta[int(rng.integers(len(aorta)))]
            t = rng.uniform(0.1, 0.9)
            axis_pt = np.asarray(p0) + t * (np.asarray(p1) - np.asarray(p0))
            direction = rng.normal(0, 1, 3)
            direction /= np.linalg.norm(direction)
            c.paint(c.ellipsoid(axis_pt + direction * r_aorta, (5.0, 5.0, 5.0)), 700.0)


def _draw_heart(chest: _Chest) -> None:
    """Heart (enlarged with cardiomegaly), pericardial fat or effusion, coronary calcifications."""
    c, rng, pos, s = chest.canvas, chest.rng, chest.positives, chest.scale
    heart_c = (16 * s, -32 * s, -52.0)
    heart_r = np.array([50, 42, 46]) * s * (1.35 if "Cardiomegaly" in pos else 1.0)
    chest.anatomy.heart = (heart_c, tuple(heart_r))
    if "Pericardial effusion" in pos:
        size = int(rng.integers(10, 19))
        chest.details["Pericardial effusion"] = {"size": size}
        c.paint(c.ellipsoid(heart_c, heart_r + size), _FLUID)
    else:
        c.paint(c.ellipsoid(heart_c, heart_r + 6), -100.0)  # epicardial/pericardial fat
    c.paint(c.ellipsoid(heart_c, heart_r), 40.0)
    if "Coronary artery wall calcification" in pos:
        for _ in range(int(rng.integers(3, 6))):
            angle = rng.uniform(-0.5, 1.6) * np.pi / 2
            elev = rng.uniform(-0.3, 0.6)
            unit = np.array([np.cos(angle) * np.cos(elev), -np.sin(angle) * np.cos(elev), np.sin(elev)])
            c.paint(c.ellipsoid(np.asarray(heart_c) + 0.95 * unit * heart_r, (5.5, 5.5, 5.5)), 600.0)


def _draw_spine_and_sternum(chest: _Chest) -> None:
    """Vertebral body (cortex, marrow), spinal canal and the sternum."""
    c, s = chest.canvas, chest.scale
    c.paint(c.cylinder_z(0, 80 * s, 18 * s, 17 * s), 650.0)
    c.paint(c.cylinder_z(0, 80 * s, 14 * s, 13 * s), 300.0)
    c.paint(c.cylinder_z(0, 102 * s, 7 * s, 7 * s), 25.0)
    c.paint(c.cylinder_z(0, -92 * s, 15 * s, 5 * s) & (c.z > -60), 450.0)


def _draw_nodes_and_hernia(chest: _Chest) -> None:
    """Enlarged mediastinal/hilar lymph nodes and a hiatal hernia, when positive."""
    c, rng, pos, s = chest.canvas, chest.rng, chest.positives, chest.scale
    if "Lymphadenopathy" in pos:
        stations = [(-16, -6, 45), (14, -4, 42), (0, -24, 58), (-34, 10, 14), (34, 10, 14), (0, 22, 22)]
        chosen = rng.choice(len(stations), size=int(rng.integers(2, 5)), replace=False)
        size = int(rng.integers(14, 26))
        chest.details["Lymphadenopathy"] = {"size": size}
        for k in chosen:
            cx, cy, cz = stations[int(k)]
            c.paint(c.ellipsoid((cx * s, cy * s, cz), (size / 2 + 2,) * 3), 45.0)
    if "Hiatal hernia" in pos:
        centre = np.array([-10 * s, 38 * s, -112.0])
        radius = float(rng.uniform(20, 28))
        c.paint(c.ellipsoid(centre, (radius + 3,) * 3), _SOFT)
        c.paint(c.ellipsoid(centre, (radius,) * 3), 18.0)
        c.paint(c.ellipsoid(centre, (radius,) * 3) & (c.z > centre[2]), _AIR)


def _choose_side(chest: _Chest, label: str, zone: str = "any") -> tuple[str, np.ndarray]:
    """A random lung, a point in its ``zone`` and the lobe wording, recorded in the label's details."""
    side = ("right", "left")[int(chest.rng.integers(2))]
    point = _lung_point(chest.rng, chest.anatomy, side, zone)
    lobe = _lobe(side, zone, chest.rng)
    chest.details.setdefault(label, {}).update({"side": side, "lobe": lobe})
    return side, point


def _draw_focal_lung_findings(chest: _Chest) -> None:
    """Opacity, consolidation, fibrotic sequela, atelectasis, nodule and pleural effusion, when positive."""
    c, rng, pos, masks = chest.canvas, chest.rng, chest.positives, chest.lung_masks
    if "Lung opacity" in pos:
        side, p = _choose_side(chest, "Lung opacity")
        c.paint(c.ellipsoid(p, rng.uniform(20, 34, 3)) & masks[side], -470.0)
    if "Consolidation" in pos:
        side, p = _choose_side(chest, "Consolidation", "lower" if rng.random() < 0.6 else "any")
        region = c.ellipsoid(p, rng.uniform(24, 36, 3)) & masks[side]
        c.paint(region, 38.0)
        c.paint(c.tube(p - np.array([0, 0, 25]), p + np.array([0, 0, 25]), 2.5) & region, -900.0)
    if "Pulmonary fibrotic sequela" in pos:
        side, p = _choose_side(chest, "Pulmonary fibrotic sequela", "upper")
        for _ in range(int(rng.integers(3, 6))):
            q = p + rng.normal(0, 8, 3)
            c.paint(c.tube(q, q + rng.normal(0, 1, 3) * 22, 2.8) & masks[side], -120.0)
    if "Atelectasis" in pos:
        side, p = _choose_side(chest, "Atelectasis", "lower")
        normal = np.array([0.0, 0.55, 1.0])
        normal /= np.linalg.norm(normal)
        plate = np.abs((c.x - p[0]) * normal[0] + (c.y - p[1]) * normal[1] + (c.z - p[2]) * normal[2]) < 6.0
        c.paint(plate & c.ellipsoid(p, (40, 45, 40)) & masks[side], 30.0)
    if "Lung nodule" in pos:
        side, p = _choose_side(chest, "Lung nodule")
        size = int(rng.integers(9, 19))
        chest.details["Lung nodule"]["size"] = size
        c.paint(c.ellipsoid(p, (size / 2,) * 3), 35.0)
    if "Pleural effusion" in pos:
        choice = ("right", "left", "bilateral")[int(rng.integers(3))]
        size = int(rng.integers(18, 40))
        where = "both hemithoraces" if choice == "bilateral" else f"the {choice} hemithorax"
        chest.details["Pleural effusion"] = {"side": choice, "size": size, "where": where}
        for side in (("right", "left") if choice == "bilateral" else (choice,)):
            centre, radii = chest.anatomy.lungs[side]
            dependent = np.broadcast_to(c.y > centre[1] + radii[1] - size * 1.3, c.shape)
            low = np.broadcast_to(c.z < centre[2] + radii[2] * 0.35, c.shape)
            c.paint(masks[side] & dependent & low, _FLUID)


def _draw_medical_material(chest: _Chest) -> None:
    """One device (central venous catheter, pacemaker with leads, or sternotomy wires), when positive."""
    if "Medical material" not in chest.positives:
        return
    c, rng, s, top = chest.canvas, chest.rng, chest.scale, chest.top
    device = str(_DEVICES[int(rng.integers(len(_DEVICES)))])
    chest.details["Medical material"] = {"device": device}
    if device == "a central venous catheter":
        c.paint(c.tube((-45 * s, -30 * s, top), (-8 * s, -18 * s, 40), 2.5), 2500.0)
        c.paint(c.tube((-8 * s, -18 * s, 40), (6 * s, -20 * s, -30), 2.5), 2500.0)
    elif device == "a cardiac pacemaker":
        box = (np.abs(c.x - 85 * s) < 20) & (np.abs(c.y + 100 * s) < 6) & (np.abs(c.z - 75) < 18)
        c.paint(box, 3000.0)
        c.paint(c.tube((85 * s, -100 * s, 75), (10 * s, -25 * s, 30), 2.0), 2500.0)
        c.paint(c.tube((10 * s, -25 * s, 30), (20 * s, -35 * s, -60), 2.0), 2500.0)
    else:
        for zz in np.linspace(-40, 60, 4):
            c.paint(c.ellipsoid((0, -92 * s, zz), (9.0, 6.0, 3.5)), 3000.0)


def _draw_patch_scale_textures(chest: _Chest, rng: np.random.Generator) -> None:
    """Patch-scale structure for the lung-density findings (the ``textured`` phantom option).

    A *phantom design choice* (issue 15), not a claim about real CT: CT-ViT's patch embedding LayerNorms each
    patch's voxels (4 x 8 x 8 voxels = 24 x 44 x 44 mm on the demo grid), removing the patch's mean density and
    its contrast scale, so a finding that only shifts a region's density is visible to it only at the region's
    edge. Here the density findings also get the structure their real counterparts show, at a scale of one to a
    few voxels, spread over many patches:

    - emphysema: a centrilobular lucency (-1000 HU) in every secondary lobule of the upper two thirds of the lungs,
      in preserved lung (-860 HU) (the lobules are the 14 x 14 x 15 mm lattice that interlobular septal thickening
      draws), plus scattered bullae;
    - mosaic attenuation: lobule by lobule, alternately denser and more lucent lung;
    - lung opacity: centrilobular ground glass over large regions of one lung, and patchy blobs;
    - consolidation: segmental extent (the drawn region grown 1.8 times) with branching air bronchograms;
    - fibrotic sequela: reticular strands radiating from a few scars.

    Only aerated lung voxels (< -700 HU), and the air bronchograms inside a consolidation, are changed, so
    other findings keep their voxels. ``rng`` is a
    separate stream, so labels, report text and every other structure stay those of the untextured phantom.
    """
    c, pos, s = chest.canvas, chest.positives, chest.scale
    aerated = chest.lung_any & (c.hu < -700.0)
    # The phantom's secondary pulmonary lobules: the 14 x 14 x 15 mm lattice interlobular septal thickening draws.
    # Offsets from the nearest lobule centre, mm:
    lob = [np.abs(np.mod(g, st) - st / 2) for g, st in ((c.x, 14.0), (c.y, 14.0), (c.z, 15.0))]
    centre_dist = np.sqrt(lob[0] ** 2 + lob[1] ** 2 + lob[2] ** 2)
    if "Emphysema" in pos:  # centrilobular lucencies in every lobule of the upper two thirds, plus bullae
        upper = np.zeros(c.shape, dtype=bool)
        for centre, radii in chest.anatomy.lungs.values():
            upper |= np.broadcast_to(c.z > centre[2] - radii[2] * 0.35, c.shape)
        centrilobular = np.broadcast_to(centre_dist < 5.5, c.shape) & upper & aerated
        c.hu[upper & aerated & ~centrilobular] = _LUNG  # preserved lung between the lucencies
        c.hu[centrilobular] = -1000.0
        for _ in range(int(rng.integers(20, 40))):
            side = ("right", "left")[int(rng.integers(2))]
            p = _lung_point(rng, chest.anatomy, side, "upper" if rng.random() < 0.6 else "any")
            c.hu[c.ellipsoid(p, (rng.uniform(6.0, 10.0),) * 3) & aerated] = -1000.0
    if "Mosaic attenuation pattern" in pos:  # lobule by lobule, alternately denser and more lucent
        parity = (np.floor(c.x / 14.0) + np.floor(c.y / 14.0) + np.floor(c.z / 15.0)) % 2
        shift = np.broadcast_to(np.where(parity > 0, 130.0, -100.0).astype(np.float32), c.shape)
        c.hu[aerated] += shift[aerated]
    if "Lung opacity" in pos:  # centrilobular ground glass over a large region, and patchy blobs
        side = chest.details.get("Lung opacity", {}).get("side", "right")
        glass = np.zeros(c.shape, dtype=bool)
        for _ in range(int(rng.integers(2, 4))):
            glass |= c.ellipsoid(_lung_point(rng, chest.anatomy, side, "any"), rng.uniform(35.0, 55.0, 3))
        c.hu[glass & np.broadcast_to(centre_dist < 6.0, c.shape) & aerated] = -450.0
        for _ in range(int(rng.integers(6, 12))):
            c.hu[c.ellipsoid(_lung_point(rng, chest.anatomy, side, "any"), rng.uniform(7.0, 15.0, 3)) & aerated] = -450.0
    if "Consolidation" in pos:  # segmental extent (the drawn region grown 1.8x) with branching air bronchograms
        side = chest.details.get("Consolidation", {}).get("side", "right")
        seed_region = chest.lung_masks[side] & (np.abs(c.hu - 38.0) < 1e-3)
        if seed_region.any():
            idx = np.argwhere(seed_region)
            mid = [float(g.ravel()[idx[:, k]].mean()) for k, g in enumerate((c.x, c.y, c.z))]
            half = [float(np.ptp(g.ravel()[idx[:, k]])) / 2 + 3.0 for k, g in enumerate((c.x, c.y, c.z))]
            c.hu[c.ellipsoid(mid, [1.8 * h for h in half]) & chest.lung_masks[side] & aerated] = 38.0
        region = chest.lung_any & (np.abs(c.hu - 38.0) < 1e-3)
        if region.any():
            idx = np.argwhere(region)
            centre = np.array([c.x.ravel()[idx[:, 0]].mean(), c.y.ravel()[idx[:, 1]].mean(),
                               c.z.ravel()[idx[:, 2]].mean()])
            for _ in range(int(rng.integers(5, 8))):
                d = rng.normal(0, 1, 3)
                d /= np.linalg.norm(d)
                mid = centre + d * 16.0
                c.paint(c.tube(centre, mid, 3.5) & region, -920.0)
                for _ in range(2):
                    e = d + rng.normal(0, 0.6, 3)
                    c.paint(c.tube(mid, mid + 16.0 * e / np.linalg.norm(e), 3.0) & region, -920.0)
    if "Pulmonary fibrotic sequela" in pos:  # reticular strands radiating from a few scars
        side = chest.details.get("Pulmonary fibrotic sequela", {}).get("side", "right")
        for _ in range(int(rng.integers(3, 5))):
            p = _lung_point(rng, chest.anatomy, side, "upper" if rng.random() < 0.7 else "any")
            for _ in range(int(rng.integers(4, 7))):
                q = p + rng.normal(0, 6, 3)
                c.paint(c.tube(q, q + rng.normal(0, 1, 3) * 22 * s, 3.5) & aerated, -120.0)


def _aortic_stretch(rng: np.random.Generator, aorta: Sequence[tuple[Sequence[float], Sequence[float]]],
                    start: tuple[float, float], extent_mm: tuple[float, float]) -> tuple[np.ndarray, np.ndarray,
                                                                                      float, float]:
    """A random stretch of one aortic segment: ``(p0, axis, t, run)``, the stretch running from ``p0 + t * axis`` to
    ``p0 + run * axis`` (``t`` uniform in ``start``, the length uniform in ``extent_mm``, clipped at the segment end)."""
    p0, p1 = (np.asarray(p, dtype=np.float64) for p in aorta[int(rng.integers(len(aorta)))])
    axis = p1 - p0
    t = float(rng.uniform(*start))
    run = min(1.0, t + float(rng.uniform(*extent_mm)) / float(np.linalg.norm(axis)))
    return p0, axis, t, run


def _draw_visible_focal_findings(chest: _Chest, rng: np.random.Generator) -> None:
    """Larger, anatomically placed focal findings (the ``textured`` phantom option, after the textures).

    A *phantom design choice* (issue 15 item 3), not a claim about real CT. The plain phantom draws calcifications
    as 5 mm spheres at random points of the aortic wall / heart surface and the devices as thin lines: on the demo's
    5.5 x 5.5 x 6 mm grid each is one or two voxels, and the small CT-ViT does not learn them from a few hundred
    volumes. Here, on the anatomy the plain phantom already has:

    - coronary artery wall calcification: calcified segments (750 HU, 5 mm radius) along the coronary course on
      the heart's surface (left anterior descending, circumflex and right coronary artery grooves);
    - arterial wall calcification: calcified plaques (800 HU, 4.5 mm radius) running 20-45 mm along the aortic wall;
    - medical material: the drawn device made thick enough to fill its voxels (catheter and pacemaker leads of
      4.5 mm radius, sternotomy wire loops along the whole sternum);
    - bronchiectasis: more dilated, thick-walled airways (wall 28 HU, lumen air) in the lower lobe(s);
    - lymphadenopathy: the enlarged nodes (45 HU) outlined by a one-voxel rim of mediastinal fat, so a node that
      touches the aorta or the heart (40-42 HU) is not merged into it;
    - atelectasis: the plate of collapsed lung one voxel thicker on each side (within the same lung's aerated
      voxels).

    Only findings whose label is positive are drawn, so no label is encoded where it is not a visible finding; ``rng``
    is the texture stream, so labels, report text and the plain phantom are unchanged.
    """
    from scipy.ndimage import binary_dilation

    c, pos, s = chest.canvas, chest.positives, chest.scale
    if "Lymphadenopathy" in pos:  # the nodes are the only 45 HU voxels (before noise)
        nodes = (c.hu == 45.0) & ~chest.lung_any
        rim = binary_dilation(nodes) & ~nodes & (c.hu > -200.0) & (c.hu < 100.0) & ~chest.lung_any
        c.hu[rim] = _FAT
    if "Atelectasis" in pos:  # the collapsed plate is the only 30 HU lung region (before noise)
        side = chest.details.get("Atelectasis", {}).get("side", "right")
        plate = chest.lung_masks[side] & (c.hu == 30.0)
        grown = binary_dilation(plate) & chest.lung_masks[side] & (c.hu < -700.0)
        c.hu[grown] = 30.0
    if "Coronary artery wall calcification" in pos:
        heart_c, heart_r = (np.asarray(v, dtype=np.float64) for v in chest.anatomy.heart)

        def surface(angle: float, elev: float) -> np.ndarray:
            unit = np.array([np.cos(angle) * np.cos(elev), -np.sin(angle) * np.cos(elev), np.sin(elev)])
            return heart_c + 1.04 * unit * heart_r

        # (start angle, start elevation, end angle, end elevation) of each vessel's groove, radians
        courses = {"LAD": (1.2, 0.7, 1.0, -0.6), "LCx": (0.6, 0.5, -0.3, 0.2), "RCA": (1.9, 0.5, 2.5, -0.2)}
        chosen = rng.choice(len(courses), size=int(rng.integers(2, 4)), replace=False)
        for k in chosen:
            a0, e0, a1, e1 = list(courses.values())[int(k)]
            t0 = rng.uniform(0.0, 0.3)
            t1 = t0 + rng.uniform(0.45, 0.7)
            points = [surface(a0 + t * (a1 - a0), e0 + t * (e1 - e0)) for t in np.linspace(t0, t1, 4)]
            for p0, p1 in zip(points[:-1], points[1:]):
                c.paint(c.tube(p0, p1, 5.0), 750.0)
    if "Arterial wall calcification" in pos:
        aorta = _aorta_segments(s)
        r_aorta = 13.0 * s
        for _ in range(int(rng.integers(6, 10))):
            p0, axis, t, run = _aortic_stretch(rng, aorta, (0.05, 0.75), (20.0, 45.0))
            length = float(np.linalg.norm(axis))
            ortho = np.cross(axis / length, rng.normal(0, 1, 3))
            ortho /= np.linalg.norm(ortho)
            offset = ortho * r_aorta
            wall = c.tube(p0, p0 + axis, r_aorta + 3.0)  # the plaque stays in the aortic wall, not in the lung
            c.paint(c.tube(p0 + t * axis + offset, p0 + run * axis + offset, 5.0) & wall, 800.0)
    if "Medical material" in pos:
        device = chest.details.get("Medical material", {}).get("device", "")
        top = chest.top
        if device == "a central venous catheter":
            for p0, p1 in (((-45 * s, -30 * s, top), (-8 * s, -18 * s, 40)),
                           ((-8 * s, -18 * s, 40), (6 * s, -20 * s, -30))):
                c.paint(c.tube(p0, p1, 4.5), 2500.0)
        elif device == "a cardiac pacemaker":
            for p0, p1 in (((85 * s, -100 * s, 75), (10 * s, -25 * s, 30)),
                           ((10 * s, -25 * s, 30), (20 * s, -35 * s, -60))):
                c.paint(c.tube(p0, p1, 4.5), 2500.0)
        else:
            for zz in np.linspace(-55, 70, 6):
                c.paint(c.ellipsoid((0, -92 * s, zz), (13.0, 8.0, 5.0)), 3000.0)
    if "Bronchiectasis" in pos:
        sd = chest.details.get("Bronchiectasis", {}).get("side", "right")  # the side the report names
        for _ in range(int(rng.integers(3, 6))):
            p0 = _lung_point(rng, chest.anatomy, sd, "lower")
            p1 = p0 + rng.normal(0, 1, 3) * np.array([14, 14, 28])
            c.paint(c.tube(p0, p1, 11.0) & chest.lung_masks[sd], 28.0)
            c.paint(c.tube(p0, p1, 7.5) & chest.lung_masks[sd], _AIR)


def _draw_distinct_shapes(chest: _Chest, rng: np.random.Generator) -> None:
    """Shapes no normal structure has, for four findings (the ``textured`` option, version 3, after
    :func:`_draw_visible_focal_findings`).

    A *phantom design choice* (issue 15 item 3), not a claim about real CT. CT-ViT LayerNorms every 4 x 8 x 8-voxel
    patch, so a finding's brightness is lost and only its shape within the patch is seen. With the version-2
    drawing four findings stayed at chance for the demo's small CT-ViT even after 1,200 pretraining phantoms,
    because each looked, patch by patch, like anatomy every chest has: sternotomy wires like a brighter sternum, a
    catheter like a vessel, aortic plaques like the bright spine beside the aorta, fibrotic strands like vessels
    or thickened septa, dilated airways like the normal bronchi. Each now also gets the shape its real counterpart
    shows at this scale:

    - medical material: sternotomy wire loops that encircle the sternum (a ring wider than the bone); a catheter
      with its chest-wall port (a 3 cm disc in the anterior chest wall, on the catheter's side); a pacemaker whose
      lead loops around its tip in the right heart (three rings);
    - arterial wall calcification: circumferential calcified rings of the aortic wall (3-5 rings, 8-20 mm long);
    - pulmonary fibrotic sequela: a stellate scar (a dense core with 8-12 thick spiculations) in the upper zone of
      the side the report names;
    - bronchiectasis: a cluster of 6-10 thick-walled cystic airways (ring shadows) in the lower zone of the side the
      report names.

    Only findings whose label is positive are drawn; ``rng`` is the texture stream, so labels, report text and
    the plain phantom are unchanged.
    """
    c, pos, s = chest.canvas, chest.positives, chest.scale
    if "Medical material" in pos:
        device = chest.details.get("Medical material", {}).get("device", "")
        if device == "a central venous catheter":
            port = np.array([-70 * s, -104 * s, 70.0])
            c.paint(c.ellipsoid(port, (15.0, 7.0, 15.0)), 3000.0)
            c.paint(c.tube(port, (-45 * s, -30 * s, chest.top), 3.0), 2500.0)
        elif device == "a cardiac pacemaker":
            apex = np.array([20 * s, -35 * s, -60.0])
            for k in range(3):  # the lead's loops in the right heart, around its tip
                centre = apex + np.array([0.0, 0.0, 8.0 * k])
                c.paint(c.ellipsoid(centre, (16.0, 16.0, 3.0)) & ~c.ellipsoid(centre, (10.0, 10.0, 3.0)), 2500.0)
        else:
            sternum = (0.0, -92 * s)
            for zz in np.linspace(-50, 60, 5):
                outer = c.ellipsoid((*sternum, zz), (15 * s + 7.0, 5 * s + 7.0, 3.0))
                inner = c.ellipsoid((*sternum, zz), (15 * s + 1.0, 5 * s + 1.0, 3.0))
                c.paint(outer & ~inner, 3000.0)
    if "Arterial wall calcification" in pos:
        aorta = _aorta_segments(s)
        r_aorta = 13.0 * s
        lumen = np.zeros(c.shape, dtype=bool)  # the rings sit on the wall and never cross the lumen (the arch bends)
        for p0, p1 in aorta:
            lumen |= c.tube(p0, p1, r_aorta)
        for _ in range(int(rng.integers(3, 6))):
            p0, axis, t, run = _aortic_stretch(rng, aorta, (0.1, 0.8), (8.0, 20.0))
            a, b = p0 + t * axis, p0 + run * axis
            c.paint(c.tube(a, b, r_aorta + 5.5) & ~lumen, 800.0)
    if "Pulmonary fibrotic sequela" in pos:
        side = chest.details.get("Pulmonary fibrotic sequela", {}).get("side", "right")
        lung = chest.lung_masks[side]
        core = _lung_point(rng, chest.anatomy, side, "upper")
        for _ in range(int(rng.integers(8, 13))):
            d = rng.normal(0, 1, 3)
            c.paint(c.tube(core, core + 30.0 * d / np.linalg.norm(d), 4.0) & lung, -60.0)
        c.paint(c.ellipsoid(core, (9.0, 9.0, 9.0)) & lung, 20.0)
    if "Bronchiectasis" in pos:
        side = chest.details.get("Bronchiectasis", {}).get("side", "right")
        lung = chest.lung_masks[side]
        centre = _lung_point(rng, chest.anatomy, side, "lower")
        for _ in range(int(rng.integers(6, 11))):
            q = centre + rng.normal(0, 1, 3) * np.array([14.0, 14.0, 20.0])
            r = float(rng.uniform(6.0, 9.0))
            c.paint(c.ellipsoid(q, (r + 5.5,) * 3) & lung, 28.0)
            c.paint(c.ellipsoid(q, (r,) * 3) & lung, _AIR)


def synthesize_chest(labels: Mapping[str, int], rng: np.random.Generator, *,
                     shape: tuple[int, int, int] = DEFAULT_SHAPE,
                     spacing: tuple[float, float, float] | None = None,
                     noise_hu: float = 15.0,
                     texture_rng: np.random.Generator | None = None) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
    """Draw one synthetic chest CT in HU with the findings of ``labels``.

    The chest is drawn in layers, each a ``_draw_*`` step: body wall, lungs, airways, esophagus and aorta,
    heart, spine and sternum, lymph nodes and hiatal hernia, focal lung findings, medical material, noise.

    Args:
        labels: ``{label: 0/1}`` over the 18 CT-RATE labels.
        rng: random generator (anatomy, finding placement, noise).
        shape: grid (X, Y, Z).
        spacing: voxel size (x, y, z) in mm; default: :data:`DEFAULT_FOV_MM` / ``shape``.
        noise_hu: standard deviation of the added Gaussian noise, HU.
        texture_rng: when given, the lung-density findings also get patch-scale structure drawn from this
            separate stream (:func:`_draw_patch_scale_textures`); ``None`` (default) draws the untextured
            phantom, voxel for voxel as before. ``rng`` is consumed identically either way.

    Returns:
        ``(hu, details)``: a float32 (X, Y, Z) volume without noise clipping beyond [-1024, 3071], and the
        per-label details (side, lobe, size in mm, device) used to word the report.

    Raises:
        InputError: a shape that is not three sizes >= 8.

    Example:
        >>> hu, details = synthesize_chest({"Lung nodule": 1}, np.random.default_rng(0), shape=(32, 32, 24))
        >>> hu.shape, "Lung nodule" in details
        ((32, 32, 24), True)
    """
    if len(shape) != 3 or min(shape) < 8:
        raise InputError(f"phantom shape must be three sizes >= 8, got {shape}")
    if spacing is None:
        spacing = tuple(f / n for f, n in zip(DEFAULT_FOV_MM, shape))  # type: ignore[assignment]
    c = _Canvas(tuple(shape), tuple(spacing))  # type: ignore[arg-type]
    s = float(rng.uniform(0.9, 1.05))
    lz = 10.0
    lungs = {"right": ((-66 * s, 6 * s, lz), (50 * s, 70 * s, 128.0)),
             "left": ((66 * s, 6 * s, lz), (50 * s, 70 * s, 128.0))}
    chest = _Chest(canvas=c, rng=rng, positives={k for k, v in labels.items() if v},
                   anatomy=PhantomAnatomy(scale=s, lungs=lungs), top=float(c.z.max()) + 5)
    for step in (_draw_body_wall, _draw_lungs, _draw_airways, _draw_esophagus_and_aorta, _draw_heart,
                 _draw_spine_and_sternum, _draw_nodes_and_hernia, _draw_focal_lung_findings,
                 _draw_medical_material):
        step(chest)
    if texture_rng is not None:
        _draw_patch_scale_textures(chest, texture_rng)
        _draw_visible_focal_findings(chest, texture_rng)
        _draw_distinct_shapes(chest, texture_rng)
    if noise_hu > 0:
        c.hu += rng.normal(0.0, noise_hu, c.shape).astype(np.float32)
    np.clip(c.hu, -1024.0, 3071.0, out=c.hu)
    return c.hu, chest.details


def _draw_labels(rng: np.random.Generator, prevalence: float | Mapping[str, float]) -> dict[str, int]:
    probs = {k: (prevalence.get(k, 0.3) if isinstance(prevalence, Mapping) else prevalence) for k in CTRATE_LABELS}
    return {k: int(rng.random() < probs[k]) for k in CTRATE_LABELS}


def _csv_text(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    return rows_to_csv([list(columns), *([row.get(c, "") for c in columns] for row in rows)])


def _metadata_row(name: str, shape: tuple[int, int, int], spacing: tuple[float, float, float],
                  rng: np.random.Generator, sex: str, age: int, date: str, recon: int) -> dict[str, Any]:
    nx, ny, nz = shape
    sx, _sy, sz = spacing
    row = {col: "" for col in METADATA_COLUMNS}
    row.update({
        "VolumeName": name, "Manufacturer": "RadevalPhantom", "SeriesDescription": f"THORAX PHANTOM RECON {recon}",
        "ManufacturerModelName": "Phantom CT 1", "PatientSex": sex, "PatientAge": f"{age:03d}Y",
        "ReconstructionDiameter": f"{sx * nx:.1f}", "DistanceSourceToDetector": "1040.0",
        "DistanceSourceToPatient": "570.0", "GantryDetectorTilt": "0.0", "TableHeight": "170.0",
        "RotationDirection": "CW", "ExposureTime": "500", "XRayTubeCurrent": str(int(rng.integers(80, 300))),
        "Exposure": "100", "FilterType": "B", "GeneratorPower": "24000", "FocalSpots": "[1.1, 1.2]",
        "ConvolutionKernel": "B" if recon == 1 else "YA", "PatientPosition": "FFS", "RevolutionTime": "0.5",
        "SingleCollimationWidth": "0.625", "TotalCollimationWidth": "40.0", "TableSpeed": "80.0",
        "TableFeedPerRotation": "40.0", "SpiralPitchFactor": "0.984", "DataCollectionCenterPatient": "[0.0, 0.0, 0.0]",
        "ReconstructionTargetCenterPatient": "[0.0, 0.0, 0.0]", "ExposureModulationType": "NONE",
        "CTDIvol": f"{rng.uniform(3, 9):.2f}", "ImagePositionPatient": f"[{-sx * nx / 2:.3f}, {-sx * ny / 2:.3f}, 0.0]",
        "ImageOrientationPatient": "[1, 0, 0, 0, 1, 0]", "SliceLocation": "0.0", "SamplesPerPixel": "1",
        "PhotometricInterpretation": "MONOCHROME2", "Rows": str(ny), "Columns": str(nx),
        "XYSpacing": f"[{sx!r}, {sx!r}]", "RescaleIntercept": f"{RESCALE_INTERCEPT:g}",
        "RescaleSlope": f"{RESCALE_SLOPE:g}", "RescaleType": "HU", "NumberofSlices": str(nz), "ZSpacing": repr(sz),
        "StudyDate": date,
    })
    return row


def write_nifti(path: Path, stored: np.ndarray, spacing: tuple[float, float, float]) -> None:
    """Write an int16 (X, Y, Z) array as a gzipped NIfTI with a diagonal affine (atomically)."""
    import nibabel as nib

    affine = np.diag([spacing[0], spacing[1], spacing[2], 1.0])
    image = nib.Nifti1Image(np.asarray(stored, dtype=np.int16), affine)
    image.header.set_xyzt_units("mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.nii.gz")
    nib.save(image, str(tmp))
    tmp.replace(path)


def make_phantom_dataset(out: str | Path, n: int = 64, seed: int = 0, *,
                         shape: tuple[int, int, int] = DEFAULT_SHAPE,
                         spacing: tuple[float, float, float] | None = None,
                         valid_fraction: float = 0.25, prevalence: float | Mapping[str, float] = 0.3,
                         recon_rate: float = 0.25, noise_hu: float = 15.0, progress: bool = False,
                         labels: str = "ct-rate", negation_rate: float = 0.7, textured: bool = False) -> Path:
    """Write a phantom dataset in CT-RATE's layout and return its dataset folder (``out/dataset``).

    Args:
        out: output folder (created; existing phantom files are overwritten).
        n: number of volumes (reconstructions included).
        seed: everything (labels, anatomy, text, noise, split) follows from it.
        shape: volume grid (X, Y, Z); spacing defaults to a 352 x 352 x 288 mm field of view.
        spacing: voxel size (x, y, z) mm.
        valid_fraction: share of patients in the validation split (patient-level, like CT-RATE).
        prevalence: probability of each label being present (one number or ``{label: p}``).
        recon_rate: probability that a study gets a second reconstruction (same report and labels).
        noise_hu: image noise, HU.
        progress: show a tqdm bar.
        labels: ``"ct-rate"`` (the 18 CT-RATE label columns, findings + impressions) or ``"inspect"`` (the
            RAD3D-Prefix paper's 21 INSPECT label columns and a CTPA-style impression as the report, in the
            same folder structure; see :mod:`radeval.data.phantom_inspect`). The images are the same either way.
        negation_rate: probability that a negative label gets its own normal/negated sentence in the findings
            (:func:`radeval.data.phantom_reports.render_findings`); lower values write shorter reports that state
            the positives and fewer negatives (the offline demo uses this to fit its short training targets).
        textured: give the lung-density findings (emphysema, mosaic attenuation, lung opacity, consolidation,
            fibrotic sequela) patch-scale structure as well (:func:`_draw_patch_scale_textures`; a phantom design
            choice so that a patch-normalising encoder such as CT-ViT can see them at the demo's resolution).
            Drawn from a separate seeded stream (``[seed, 15]``): labels, reports, splits and metadata are those
            of the untextured dataset with the same seed; only the volumes differ. Default ``False``: unchanged.

    Returns:
        The dataset folder, readable by :class:`radeval.data.ctrate.CTRateDataset`.

    Raises:
        InputError: ``n < 2`` or a parameter out of range.

    Example:
        >>> import tempfile
        >>> root = make_phantom_dataset(tempfile.mkdtemp(), n=3, seed=1, shape=(20, 20, 12))
        >>> sorted(p.name for p in root.iterdir())
        ['metadata', 'multi_abnormality_labels', 'radiology_text_reports', 'train_fixed', 'valid_fixed']
    """
    if n < 2:
        raise InputError(f"n={n}: a phantom dataset needs at least 2 volumes (one per split)")
    if labels not in ("ct-rate", "inspect"):
        raise InputError(f"labels={labels!r}: expected 'ct-rate' or 'inspect'")
    if not 0.0 < valid_fraction < 1.0:
        raise InputError(f"valid_fraction={valid_fraction} must be in (0, 1)")
    if not 0.0 <= negation_rate <= 1.0:
        raise InputError(f"negation_rate={negation_rate} must be in [0, 1]")
    if isinstance(prevalence, Mapping):
        unknown = [k for k in prevalence if k not in CTRATE_LABELS]
        if unknown:
            raise InputError(f"prevalence: unknown label(s) {unknown}; expected names from {list(CTRATE_LABELS)}")
        probs = list(prevalence.values())
    else:
        probs = [prevalence]
    if not all(0.0 <= float(p) <= 1.0 for p in probs):
        raise InputError(f"prevalence={prevalence!r}: probabilities must be in [0, 1]")
    shape = tuple(int(v) for v in shape)  # type: ignore[assignment]
    if len(shape) != 3 or min(shape) < 8:  # checked before any work (a zero size would divide by zero below)
        raise InputError(f"phantom shape must be three sizes >= 8, got {shape}")
    if spacing is None:
        spacing = tuple(f / k for f, k in zip(DEFAULT_FOV_MM, shape))  # type: ignore[assignment]
    spacing = tuple(float(v) for v in spacing)  # type: ignore[assignment]
    root = Path(out).expanduser() / "dataset"
    rng = np.random.default_rng(seed)
    text_rng = np.random.default_rng([seed, 21]) if labels == "inspect" else None  # INSPECT text only
    texture_rng = np.random.default_rng([seed, 15]) if textured else None  # volumes only (see ``textured``)
    n_valid_target = max(1, int(round(n * valid_fraction)))

    rows: dict[str, dict[str, list[dict[str, Any]]]] = {
        s: {"reports": [], "labels": [], "metadata": []} for s in SPLIT_FILES}
    counters = {"train": 0, "valid": 0}
    produced = {"train": 0, "valid": 0}
    from tqdm import tqdm

    bar = tqdm(total=n, desc="phantom volumes", disable=not progress)
    while produced["train"] + produced["valid"] < n:
        remaining = n - produced["train"] - produced["valid"]
        need_valid = n_valid_target - produced["valid"]
        split = "valid" if (need_valid > 0 and (rng.random() < valid_fraction or need_valid >= remaining)) else "train"
        if split == "valid" and need_valid <= 0:
            split = "train"
        counters[split] += 1
        patient = str(counters[split])
        sex = ("M", "F")[int(rng.integers(2))]
        age = int(rng.integers(25, 86))
        n_scans = 2 if (remaining >= 2 and rng.random() < 0.1) else 1
        for scan in "ab"[:n_scans]:
            remaining = n - produced["train"] - produced["valid"]
            if remaining <= 0:
                break
            case_labels = _draw_labels(rng, prevalence)
            hu, details = synthesize_chest(case_labels, rng, shape=shape, spacing=spacing, noise_hu=0.0,
                                           texture_rng=texture_rng)
            findings = render_findings(case_labels, rng, details=details, negation_rate=negation_rate)
            impressions = render_impressions(case_labels, rng, details=details)
            if text_rng is not None:  # INSPECT: 21 labels, the impression is the whole report
                row_labels = draw_inspect_labels(case_labels, text_rng,
                                                 prevalence=float(prevalence) if isinstance(prevalence, (int, float)) else 0.3)
                findings = impressions = render_inspect_impression(row_labels, case_labels, text_rng)
            else:
                row_labels = case_labels
            clinical = str(CLINICAL_INFORMATION[rng.integers(len(CLINICAL_INFORMATION))])
            technique = str(TECHNIQUE[rng.integers(len(TECHNIQUE))]).format(z=f"{spacing[2]:g}")
            date = f"2021{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
            n_recons = 2 if (remaining >= 2 and rng.random() < recon_rate) else 1
            for recon in range(1, n_recons + 1):
                parts = VolumeName(split, patient, scan, str(recon))
                volume = hu
                if recon > 1:
                    from scipy.ndimage import gaussian_filter

                    volume = gaussian_filter(hu, sigma=0.8)
                noisy = volume + rng.normal(0.0, noise_hu * (0.6 if recon > 1 else 1.0), hu.shape).astype(np.float32)
                stored = np.rint((np.clip(noisy, -1024, 3071) - RESCALE_INTERCEPT) / RESCALE_SLOPE)
                write_nifti(root / VOLUME_DIRS[split][0] / parts.relpath, stored.astype(np.int16), spacing)
                name = f"{parts.case_id}.nii.gz"
                rows[split]["reports"].append({"VolumeName": name, "ClinicalInformation_EN": clinical,
                                               "Technique_EN": technique, "Findings_EN": findings,
                                               "Impressions_EN": impressions})
                rows[split]["labels"].append({"VolumeName": name, **row_labels})
                rows[split]["metadata"].append(_metadata_row(name, shape, spacing, rng, sex, age, date, recon))
                produced[split] += 1
                bar.update(1)
    bar.close()
    label_columns = INSPECT_LABELS if labels == "inspect" else CTRATE_LABELS
    columns = {"reports": REPORT_COLUMNS, "labels": ("VolumeName", *label_columns), "metadata": METADATA_COLUMNS}
    for split, files in SPLIT_FILES.items():
        for kind, rel in files.items():
            atomic_write_text(root / rel, _csv_text(columns[kind], rows[split][kind]))
    return root
