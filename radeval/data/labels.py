"""Abnormality label sets: CT-RATE's 18 labels (CT-CLIP order) and the 21-label INSPECT set."""

from __future__ import annotations

#: The 18 CT-RATE abnormality labels, in the order of CT-CLIP's code and the labels CSVs.
CTRATE_LABELS: tuple[str, ...] = (
    "Medical material",
    "Arterial wall calcification",
    "Cardiomegaly",
    "Pericardial effusion",
    "Coronary artery wall calcification",
    "Hiatal hernia",
    "Lymphadenopathy",
    "Emphysema",
    "Atelectasis",
    "Lung nodule",
    "Lung opacity",
    "Pulmonary fibrotic sequela",
    "Pleural effusion",
    "Mosaic attenuation pattern",
    "Peribronchial thickening",
    "Consolidation",
    "Bronchiectasis",
    "Interlobular septal thickening",
)

#: CT-LiPro (ClassFine) BCE ``pos_weight`` per CT-RATE label, same order as :data:`CTRATE_LABELS`.
CTRATE_POS_WEIGHT: tuple[float, ...] = (
    9.211362733, 2.384068466, 8.295479204, 32.8629776, 2.992233613, 6.064870808, 3.176470588,
    4.187083754, 3.022222222, 1.216071737, 1.677849552, 3.152851834, 7.123261694, 18.16629381,
    13.8480647, 6.335045662, 10.81701149, 13.40695067,
)

#: INSPECT: RAD3D-Prefix extracts 21 abnormalities but does not publish the list. This is our
#: reconstruction: the 18 CT-RATE labels plus three findings central to CT pulmonary angiography.
#: Override it (``labels=`` arguments, suite YAML) when you have the authors' list.
INSPECT_LABELS: tuple[str, ...] = CTRATE_LABELS + (
    "Pulmonary embolism",
    "Pulmonary artery enlargement",
    "Right ventricular strain",
)

LABEL_SETS: dict[str, tuple[str, ...]] = {"ct-rate": CTRATE_LABELS, "inspect": INSPECT_LABELS}


def label_set(name: str) -> tuple[str, ...]:
    """Return a label set by name (``ct-rate`` or ``inspect``).

    Raises:
        KeyError: naming the known sets.

    Example:
        >>> len(label_set("ct-rate")), len(label_set("inspect"))
        (18, 21)
    """
    try:
        return LABEL_SETS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown label set {name!r}; known: {', '.join(LABEL_SETS)}") from None
