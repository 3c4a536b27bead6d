"""Phantom INSPECT cases: the 21 labels of the RAD3D-Prefix paper (Table 6) and CTPA-style impressions.

A phantom INSPECT dataset has CT-RATE's folder structure (see :func:`radeval.data.phantom.make_phantom_dataset`
with ``labels="inspect"``) and INSPECT's label columns. Its volumes are drawn exactly as for CT-RATE, from
the 18 CT-RATE findings the image synthesis knows; the INSPECT labels are then

* **derived** from those findings where the image shows them (:data:`FROM_CTRATE`, e.g. a lung nodule makes
  "Nodules" positive; any of cardiomegaly, emphysema, hiatal hernia, bronchiectasis or fibrotic sequela makes
  "Others" positive), and
* **drawn** for the findings a phantom image cannot show (:data:`TEXT_ONLY`: embolism, edema, metastases ...),
  from a random stream separate from the image's, so a CT-RATE phantom with the same seed is unchanged.

The report is an impression only (INSPECT releases impressions, no findings section): one numbered
sentence per positive label, in Table 6 order, plus some explicit negations ("No pulmonary embolism.").
Every sentence names its label with words the rule-based INSPECT lexicon reads as that label and no other,
so labelling the phantom impressions gives back the phantom labels.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from radeval.data.labels import INSPECT_LABELS

#: INSPECT label -> the CT-RATE findings (visible in a phantom image) that make it positive.
FROM_CTRATE: dict[str, tuple[str, ...]] = {
    "Opacities": ("Lung opacity",),
    "Nodules": ("Lung nodule",),
    "Atelectasis": ("Atelectasis",),
    "Thickening": ("Peribronchial thickening", "Interlobular septal thickening"),
    "Effusions": ("Pleural effusion", "Pericardial effusion"),
    "Consolidation": ("Consolidation",),
    "Lymphadenopathies": ("Lymphadenopathy",),
    "Others": ("Cardiomegaly", "Emphysema", "Hiatal hernia", "Bronchiectasis", "Pulmonary fibrotic sequela"),
}

#: INSPECT labels a phantom image cannot show: drawn at random (text only).
TEXT_ONLY: tuple[str, ...] = tuple(k for k in INSPECT_LABELS if k not in FROM_CTRATE)

#: One CTPA-style impression sentence per positive label; ``{side}``, ``{lobe}``, ``{mm}``, ``{cm}`` are filled in.
POSITIVE: dict[str, tuple[str, ...]] = {
    "Embolism": ("Acute pulmonary embolism in the {side} lower lobe segmental arteries.",
                 "Filling defects in the {side} main pulmonary artery, consistent with pulmonary emboli."),
    "Opacities": ("Patchy ground-glass opacities in the {side} {lobe} lobe.",),
    "Nodules": ("A {mm} mm nodule in the {side} {lobe} lobe.",),
    "Disease": ("Chronic airspace disease in the {side} lung.",),
    "Atelectasis": ("Dependent atelectasis at the {side} lung base.",),
    "Infection": ("Bronchial impaction in the {side} {lobe} lobe, compatible with infection.",),
    "Thickening": ("Bronchial wall thickening in the lower lobes.",),
    "Effusions": ("Small {side} pleural effusion.",),
    "Edema": ("Smooth septal lines consistent with interstitial edema.",),
    "Aspiration": ("Debris in the {side} mainstem bronchus from aspiration.",),
    "Consolidation": ("Dense consolidation of the {side} lower lobe.",),
    "Mass": ("A {cm} cm spiculated mass in the {side} upper lobe.",),
    "Pneumonia": ("Findings of {side} lower lobe pneumonia.",),
    "Metastatic": ("Metastatic spread to the {side} adrenal gland.",),
    "Lymphadenopathies": ("Mediastinal lymphadenopathy.",),
    "Hypertension": ("Findings of pulmonary arterial hypertension.",),
    "Metastases": ("Sclerotic osseous metastases in the thoracic spine.",),
    "Lesions": ("A hypodense lesion in the liver, too small to characterize.",),
    "Malignancy": ("Post-treatment changes of known {side} breast malignancy.",),
    "Node": ("A {mm} mm subcarinal node.",),
}

#: The "Others" sentence for each CT-RATE finding that makes it positive.
OTHERS: dict[str, str] = {
    "Cardiomegaly": "Cardiomegaly.",
    "Emphysema": "Centrilobular emphysema in the upper lobes.",
    "Hiatal hernia": "Moderate hiatal hernia.",
    "Bronchiectasis": "Bronchiectasis in the lower lobes.",
    "Pulmonary fibrotic sequela": "Fibrotic scarring at the {side} lung apex.",
}

#: Explicit negations used for some negative labels.
NEGATIVE: dict[str, str] = {
    "Embolism": "No pulmonary embolism.",
    "Effusions": "No pleural effusion.",
    "Nodules": "No suspicious pulmonary nodules.",
    "Consolidation": "No consolidation.",
    "Lymphadenopathies": "No thoracic lymphadenopathy.",
}


def draw_inspect_labels(ctrate_labels: Mapping[str, int], rng: np.random.Generator, *,
                        prevalence: float = 0.3) -> dict[str, int]:
    """The 21 INSPECT labels of a phantom case: derived from its CT-RATE findings, text-only ones drawn.

    Args:
        ctrate_labels: the case's 18 CT-RATE labels (what its image shows).
        rng: the generator of the text-only labels (not the image's).
        prevalence: probability of each text-only label.

    Returns:
        ``{label: 0/1}`` in :data:`INSPECT_LABELS` order.

    Example:
        >>> y = draw_inspect_labels({"Lung nodule": 1}, np.random.default_rng(0), prevalence=0.0)
        >>> [k for k, v in y.items() if v]
        ['Nodules']
    """
    out: dict[str, int] = {}
    for label in INSPECT_LABELS:
        if label in FROM_CTRATE:
            out[label] = int(any(ctrate_labels.get(src, 0) for src in FROM_CTRATE[label]))
        else:
            out[label] = int(rng.random() < prevalence)
    return out


def render_inspect_impression(labels: Mapping[str, int], ctrate_labels: Mapping[str, int],
                              rng: np.random.Generator) -> str:
    """A numbered CTPA impression stating every positive INSPECT label (Table 6 order) and some negations.

    Args:
        labels: the 21 INSPECT labels of the case.
        ctrate_labels: its CT-RATE findings (they choose the "Others" wording).
        rng: the text generator.

    Example:
        >>> render_inspect_impression({"Embolism": 0}, {}, np.random.default_rng(0)).startswith("1. ")
        True
    """
    fill = {"side": ("right", "left")[int(rng.integers(2))], "lobe": ("upper", "lower")[int(rng.integers(2))],
            "mm": int(rng.integers(3, 15)), "cm": f"{rng.uniform(1.5, 4.5):.1f}"}
    items: list[str] = []
    for label in INSPECT_LABELS:
        if labels.get(label, 0):
            if label == "Others":
                causes = [c for c in FROM_CTRATE["Others"] if ctrate_labels.get(c, 0)]
                items.extend(OTHERS[c].format(**fill) for c in causes)
            else:
                options = POSITIVE[label]
                items.append(options[int(rng.integers(len(options)))].format(**fill))
        elif label in NEGATIVE and (label == "Embolism" or rng.random() < 0.4):
            items.append(NEGATIVE[label])
    if not any(labels.get(k, 0) for k in INSPECT_LABELS):
        items.append("No acute cardiopulmonary abnormality.")
    return " ".join(f"{i}. {text}" for i, text in enumerate(items, start=1))
