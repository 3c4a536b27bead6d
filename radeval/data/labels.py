"""Abnormality label sets: CT-RATE's 18 labels (CT-CLIP order) and the RAD3D-Prefix paper's 21 INSPECT labels."""

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

#: The 21 INSPECT abnormalities of the RAD3D-Prefix paper (appendix, Table 6), in the paper's order.
#: The paper extracted them from the impressions with ReXKG, kept entities seen more than 1,000 times and
#: merged entities sharing a UMLS CUI (e.g. emboli/embolus/embolism -> "Embolism", CUI C1704212).
INSPECT_LABELS: tuple[str, ...] = (
    "Embolism", "Opacities", "Nodules", "Disease", "Atelectasis", "Infection", "Thickening", "Effusions",
    "Edema", "Aspiration", "Consolidation", "Mass", "Pneumonia", "Metastatic", "Lymphadenopathies",
    "Hypertension", "Metastases", "Lesions", "Malignancy", "Node", "Others",
)

#: Per-label (train, test) scan counts of the paper's INSPECT split (RAD3D-Prefix paper, Table 6):
#: 17,730 train / 3,506 test scans, stratified on the 21 labels (INSPECT has no official split).
INSPECT_TABLE6_COUNTS: dict[str, tuple[int, int]] = {
    "Embolism": (3691, 739), "Opacities": (3788, 758), "Nodules": (4296, 859), "Disease": (2592, 518),
    "Atelectasis": (2916, 583), "Infection": (2744, 549), "Thickening": (2526, 505), "Effusions": (4608, 922),
    "Edema": (1775, 355), "Aspiration": (1543, 308), "Consolidation": (1828, 366), "Mass": (1403, 281),
    "Pneumonia": (1367, 273), "Metastatic": (1283, 256), "Lymphadenopathies": (1557, 311),
    "Hypertension": (1048, 209), "Metastases": (1137, 227), "Lesions": (1648, 330), "Malignancy": (1070, 214),
    "Node": (850, 169), "Others": (3302, 661),
}

#: Scans of the paper's INSPECT split (RAD3D-Prefix paper, appendix "INSPECT" and §4.1).
INSPECT_TRAIN_SCANS = 17_730
INSPECT_TEST_SCANS = 3_506

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


def all_label_names() -> tuple[str, ...]:
    """Every label name of every known set, each once, in set order (CT-RATE first).

    Example:
        >>> names = all_label_names()
        >>> len(names), names.count("Atelectasis")
        (37, 1)
    """
    seen: dict[str, None] = {}
    for members in LABEL_SETS.values():
        seen.update(dict.fromkeys(members))
    return tuple(seen)
