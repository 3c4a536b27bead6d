"""Findings and impressions text for phantom CT-RATE cases, written from the 18 labels.

Each positive label is stated with one of several CT-RATE-style wordings that always contain an unambiguous
key phrase for that label; each negative label is either left unmentioned or stated as normal, often as an
explicit negation ("No pleural effusion.", "Pleural effusion was not observed."). Sentences follow the
order of a CT-RATE findings section: airways, mediastinum and heart, vessels, esophagus, lungs, pleura,
bones and upper abdomen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from radeval.data.labels import CTRATE_LABELS

#: Section each label's sentence belongs to (report order).
_SECTION: dict[str, int] = {
    "Medical material": 0, "Cardiomegaly": 1, "Pericardial effusion": 1, "Lymphadenopathy": 1,
    "Arterial wall calcification": 2, "Coronary artery wall calcification": 2, "Hiatal hernia": 3,
    "Emphysema": 4, "Lung nodule": 4, "Lung opacity": 4, "Consolidation": 4, "Pulmonary fibrotic sequela": 4,
    "Atelectasis": 4, "Bronchiectasis": 4, "Peribronchial thickening": 4, "Interlobular septal thickening": 4,
    "Mosaic attenuation pattern": 4, "Pleural effusion": 5,
}

#: Positive wordings; ``{side}``, ``{lobe}``, ``{size}`` and ``{device}`` are filled from the case's details.
POSITIVE: dict[str, tuple[str, ...]] = {
    "Medical material": (
        "There is medical material in the thorax ({device}).",
        "{device_cap} noted in the thorax.",
        "Medical material consistent with {device} is noted.",
    ),
    "Arterial wall calcification": (
        "Atherosclerotic calcified plaques are observed in the walls of the aorta.",
        "Calcific atheroma is seen in the thoracic aortic wall.",
        "There are arterial wall calcifications in the aortic arch and descending aorta.",
    ),
    "Cardiomegaly": (
        "Cardiomegaly is present.",
        "The heart is enlarged, consistent with cardiomegaly.",
        "Heart size is increased (cardiomegaly).",
    ),
    "Pericardial effusion": (
        "Pericardial effusion is observed.",
        "There is pericardial effusion measuring {size} mm in thickness.",
        "Fluid is seen in the pericardial space, consistent with pericardial effusion.",
    ),
    "Coronary artery wall calcification": (
        "Calcified plaques are seen in the coronary arteries.",
        "Coronary artery wall calcifications are present.",
        "There are calcifications in the walls of the coronary arteries.",
    ),
    "Hiatal hernia": (
        "A hiatal hernia is observed at the lower end of the esophagus.",
        "There is a sliding hiatal hernia.",
        "Hiatal hernia is present.",
    ),
    "Lymphadenopathy": (
        "Lymph nodes of pathological size are observed in the mediastinum, consistent with lymphadenopathy.",
        "Mediastinal and hilar lymphadenopathy is present, the largest lymph node measuring {size} mm in "
        "short axis.",
        "There is mediastinal lymphadenopathy.",
    ),
    "Emphysema": (
        "Centrilobular emphysema is seen in both lungs.",
        "Emphysematous changes are present in both lungs, more prominent in the upper lobes.",
        "There is paraseptal and centrilobular emphysema.",
    ),
    "Atelectasis": (
        "Atelectasis is observed in the {lobe} of the {side} lung.",
        "There are atelectatic changes in the {side} lower lobe.",
        "Subsegmental atelectasis is seen in the {side} lung base.",
    ),
    "Lung nodule": (
        "A {size} mm nodule is seen in the {lobe} of the {side} lung.",
        "There is a solid pulmonary nodule measuring {size} mm in the {side} lung.",
        "A nodule with a diameter of {size} mm is observed in the {side} {lobe}.",
    ),
    "Lung opacity": (
        "Ground-glass opacity is observed in the {lobe} of the {side} lung.",
        "There is a patchy ground-glass opacity in the {side} lung.",
        "Opacity with ground-glass density is seen in the {side} {lobe}.",
    ),
    "Pulmonary fibrotic sequela": (
        "Fibrotic sequelae are seen in the {side} lung apex.",
        "There are fibrotic sequelae changes in the {side} upper lobe.",
        "Linear fibrotic sequela densities are observed in the {side} lung.",
    ),
    "Pleural effusion": (
        "Pleural effusion is observed in {where}.",
        "There is {side} pleural effusion measuring {size} mm at its thickest part.",
        "Fluid consistent with pleural effusion is seen in {where}.",
    ),
    "Mosaic attenuation pattern": (
        "A mosaic attenuation pattern is observed in both lungs.",
        "There is a mosaic attenuation pattern in the lung parenchyma.",
        "Mosaic attenuation is noted bilaterally.",
    ),
    "Peribronchial thickening": (
        "Peribronchial thickening is observed in both lungs.",
        "There is bronchial wall thickening with peribronchial thickening in the lower lobes.",
        "Peribronchial thickening is noted.",
    ),
    "Consolidation": (
        "Consolidation is observed in the {lobe} of the {side} lung.",
        "There is an area of consolidation with air bronchograms in the {side} {lobe}.",
        "A consolidation is seen in the {side} lung.",
    ),
    "Bronchiectasis": (
        "Bronchiectasis is observed in the {side} lower lobe.",
        "There are cylindrical bronchiectasis in both lungs.",
        "Bronchiectatic changes are seen in the {side} lung.",
    ),
    "Interlobular septal thickening": (
        "Interlobular septal thickening is observed in the peripheral parts of both lungs.",
        "There is smooth interlobular septal thickening.",
        "Interlobular septal thickening is noted in the lung periphery.",
    ),
}

#: Normal / negated wordings (every one negates its label explicitly or states the organ as normal).
NEGATIVE: dict[str, tuple[str, ...]] = {
    "Medical material": ("No medical material is seen.",),
    "Arterial wall calcification": (
        "No atherosclerotic calcification is seen in the aortic wall.",
        "The thoracic aorta shows no wall calcification.",
    ),
    "Cardiomegaly": (
        "Heart contour and size are normal.",
        "No cardiomegaly.",
        "Cardiomegaly was not observed.",
    ),
    "Pericardial effusion": (
        "No pericardial effusion.",
        "Pericardial effusion was not observed.",
        "There is no pericardial effusion or thickening.",
    ),
    "Coronary artery wall calcification": (
        "No calcification is seen in the coronary arteries.",
        "Coronary artery calcification was not observed.",
    ),
    "Hiatal hernia": (
        "No hiatal hernia.",
        "Hiatal hernia was not detected.",
        "Thoracic esophagus calibration is normal and no hiatal hernia is seen.",
    ),
    "Lymphadenopathy": (
        "No lymph node in pathological size and appearance was observed in the mediastinum and hilar regions.",
        "No mediastinal or hilar lymphadenopathy.",
        "Lymphadenopathy was not observed.",
    ),
    "Emphysema": ("No emphysema.", "Emphysema was not observed in either lung."),
    "Atelectasis": ("No atelectasis.", "Atelectasis was not observed."),
    "Lung nodule": (
        "No pulmonary nodule was detected.",
        "No nodule is seen in either lung.",
        "Lung nodule was not observed.",
    ),
    "Lung opacity": ("No ground-glass opacity is seen in the lungs.", "No lung opacity."),
    "Pulmonary fibrotic sequela": ("No fibrotic sequelae are seen.", "Fibrotic sequela was not observed."),
    "Pleural effusion": (
        "No pleural effusion.",
        "Pleural effusion was not observed.",
        "There is no pleural effusion on either side.",
    ),
    "Mosaic attenuation pattern": ("No mosaic attenuation pattern.", "Mosaic attenuation was not observed."),
    "Peribronchial thickening": ("No peribronchial thickening.", "Peribronchial thickening was not observed."),
    "Consolidation": (
        "No consolidation is seen in either lung.",
        "No consolidation.",
        "Consolidation was not observed.",
    ),
    "Bronchiectasis": ("No bronchiectasis.", "Bronchiectasis was not observed."),
    "Interlobular septal thickening": (
        "No interlobular septal thickening.",
        "Interlobular septal thickening was not observed.",
    ),
}

#: Statements about organs outside the 18 labels, used as normal filler in the matching section.
FILLER: dict[int, tuple[str, ...]] = {
    0: ("Trachea and both main bronchi are open.", "The trachea and main bronchi are patent.",
        "Trachea and main bronchi are in the midline and patent."),
    1: ("Mediastinal structures were evaluated as suboptimal since contrast material was not given.",
        "Mediastinal main vascular structures are in natural course."),
    2: ("The thoracic aorta has a normal diameter.", "The main pulmonary artery has a normal diameter."),
    3: ("The esophagus has a normal course.",),
    4: ("The lung parenchyma was evaluated in the lung window.", "Both lungs were aerated."),
    5: ("No pneumothorax.", "No pleural thickening was observed."),
    6: ("Bone structures in the study area are natural.", "No lytic or destructive lesion was detected in "
        "the bones.", "Upper abdominal organs included in the sections are unremarkable."),
}

#: Impression wording for a positive label.
IMPRESSION: dict[str, str] = {
    "Medical material": "{device_cap} in place.",
    "Arterial wall calcification": "Aortic atherosclerotic calcification.",
    "Cardiomegaly": "Cardiomegaly.",
    "Pericardial effusion": "Pericardial effusion.",
    "Coronary artery wall calcification": "Coronary artery calcification.",
    "Hiatal hernia": "Hiatal hernia.",
    "Lymphadenopathy": "Mediastinal lymphadenopathy.",
    "Emphysema": "Emphysema.",
    "Atelectasis": "Atelectasis in the {side} lung.",
    "Lung nodule": "{size} mm nodule in the {side} lung.",
    "Lung opacity": "Ground-glass opacity in the {side} lung.",
    "Pulmonary fibrotic sequela": "Fibrotic sequelae.",
    "Pleural effusion": "Pleural effusion.",
    "Mosaic attenuation pattern": "Mosaic attenuation pattern.",
    "Peribronchial thickening": "Peribronchial thickening.",
    "Consolidation": "Consolidation in the {side} lung.",
    "Bronchiectasis": "Bronchiectasis.",
    "Interlobular septal thickening": "Interlobular septal thickening.",
}

_DEFAULT_DETAILS = {"side": "right", "lobe": "lower lobe", "size": 8, "device": "a central venous catheter",
                    "where": "the right hemithorax"}


def _fill(template: str, details: Mapping[str, Any]) -> str:
    values = {**_DEFAULT_DETAILS, **details}
    values["device_cap"] = str(values["device"])[:1].upper() + str(values["device"])[1:]
    return template.format(**values)


def render_findings(labels: Mapping[str, int], rng: np.random.Generator, *,
                    details: Mapping[str, Mapping[str, Any]] | None = None,
                    negation_rate: float = 0.7) -> str:
    """Write a CT-RATE-style findings section for one case.

    Args:
        labels: ``{label: 0/1}`` for the 18 CT-RATE labels (missing labels count as 0).
        rng: the random generator choosing wordings (reports are reproducible from the seed).
        details: per-label values for the templates (``side``, ``lobe``, ``size``, ``device``).
        negation_rate: probability that a negative label gets an explicit normal/negated sentence.

    Returns:
        One paragraph of sentences.

    Example:
        >>> text = render_findings({"Pleural effusion": 1}, np.random.default_rng(0))
        >>> "pleural effusion" in text.lower()
        True
    """
    details = details or {}
    sections: dict[int, list[str]] = {k: [] for k in range(7)}
    for section, options in FILLER.items():
        if rng.random() < 0.6:
            sections[section].append(str(options[rng.integers(len(options))]))
    for label in CTRATE_LABELS:
        section = _SECTION[label]
        if labels.get(label, 0):
            options = POSITIVE[label]
            sections[section].append(_fill(str(options[rng.integers(len(options))]), details.get(label, {})))
        elif label != "Medical material" and rng.random() < negation_rate:
            options = NEGATIVE[label]
            sections[section].append(str(options[rng.integers(len(options))]))
    sentences = [s for k in range(7) for s in sections[k]]
    return " ".join(sentences)


def render_impressions(labels: Mapping[str, int], rng: np.random.Generator, *,
                       details: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """A short impressions section listing the positive findings (or a normal statement).

    Example:
        >>> render_impressions({}, np.random.default_rng(0)) in NORMAL_IMPRESSIONS
        True
    """
    details = details or {}
    items = [_fill(IMPRESSION[label], details.get(label, {})) for label in CTRATE_LABELS if labels.get(label, 0)]
    if not items:
        return str(NORMAL_IMPRESSIONS[rng.integers(len(NORMAL_IMPRESSIONS))])
    return " ".join(items)


#: Impressions of a case with no positive label.
NORMAL_IMPRESSIONS: tuple[str, ...] = ("No significant pathology in the thorax.", "Normal chest CT.",
                                       "No acute thoracic pathology.")

#: Clinical information lines (CT-RATE writes "Not given." when absent).
CLINICAL_INFORMATION: tuple[str, ...] = ("Not given.", "Cough.", "Shortness of breath.", "Chest pain.",
                                         "Fever and cough.", "Follow-up.")

#: Technique lines.
TECHNIQUE: tuple[str, ...] = (
    "Non-contrast axial images of the thorax were obtained with {z} mm slice thickness.",
    "Thorax CT without contrast, axial sections of {z} mm.",
)
