"""Hand-written realistic CT findings sentences for each label: positives, negations, look-alikes."""

from __future__ import annotations

import pytest

from radeval.data.labels import CTRATE_LABELS, INSPECT_LABELS
from radeval.labeling.lexicon import LEXICON, Term, describe
from radeval.labeling.rule_based import RuleBasedLabeler

#: label -> sentences in which the label is present (CT-RATE findings style and common English usage).
POSITIVE: dict[str, list[str]] = {
    "Medical material": [
        "Pacemaker is observed in the left anterior chest wall, with its leads extending into the right heart.",
        "Port catheter is observed in the right subclavian vein.",
        "Sternotomy wires and mediastinal surgical clips related to previous CABG are observed.",
        "A nasogastric tube is seen in the esophagus.",
        "Stent is observed in the left anterior descending artery.",
    ],
    "Arterial wall calcification": [
        "Calcific atheromatous plaques are observed in the aorta and coronary arteries.",
        "Atherosclerotic calcifications are observed in the wall of the thoracic aorta.",
        "Mural calcifications are present in the aortic arch and supra-aortic arteries.",
        "Atherosclerotic changes are observed.",
    ],
    "Cardiomegaly": [
        "Cardiomegaly is observed.",
        "Heart size is increased.",
        "The heart contour is enlarged and the cardiothoracic ratio is increased.",
        "Cardiac enlargement is noted.",
    ],
    "Pericardial effusion": [
        "Pericardial effusion reaching 12 mm in thickness is observed.",
        "Minimal pericardial fluid is present.",
        "Pleural and pericardial effusion are observed.",
    ],
    "Coronary artery wall calcification": [
        "Calcific atheromatous plaques are observed in the aorta and coronary arteries.",
        "Coronary artery calcifications are present in the LAD and RCA.",
        "Calcified plaques are seen along the course of the coronary arteries.",
    ],
    "Hiatal hernia": [
        "Sliding type hiatal hernia is observed at the lower end of the esophagus.",
        "A small hiatus hernia is present.",
        "Herniation of the stomach through the esophageal hiatus is observed.",
    ],
    "Lymphadenopathy": [
        "Lymph nodes in pathological size are observed in the mediastinum, the largest 15 mm.",
        "Mediastinal and bilateral hilar lymphadenopathy is observed.",
        "Enlarged lymph nodes are observed in the right paratracheal region.",
        "Conglomerate lymph nodes were detected in the subcarinal area.",
        "Lymph nodes with a short axis of 15 mm were observed in the mediastinum.",
        "A lymph node measuring 1.2 cm in short axis is seen in the right hilum.",
    ],
    "Emphysema": [
        "Centrilobular and paraseptal emphysematous changes are observed in both lungs.",
        "Bullous emphysema is present in the apical segments.",
        "Subpleural bullae are observed in the upper lobes.",
    ],
    "Atelectasis": [
        "Subsegmental atelectasis is observed in the lower lobe of the left lung.",
        "Plate-like atelectatic changes are present in the lingula.",
        "Fibroatelectatic changes are seen in the middle lobe.",
        "Collapse of the right lower lobe is observed.",
    ],
    "Lung nodule": [
        "A 4 mm nonspecific nodule is observed in the upper lobe of the right lung.",
        "Multiple millimetric nodules are present in both lungs.",
        "A calcified granuloma is seen in the left upper lobe.",
        "Micronodular densities are observed in the right lung.",
    ],
    "Lung opacity": [
        "Ground glass densities are observed in both lungs.",
        "Patchy ground-glass opacities are present in the lower lobes.",
        "Infiltration areas are observed in the right lung.",
        "Increased density is observed in the posterior segment of the right lower lobe.",
    ],
    "Pulmonary fibrotic sequela": [
        "Sequelae fibrotic changes are observed in the apical regions of both lungs.",
        "Pleuroparenchymal fibrotic bands are present in the left lower lobe.",
        "Linear fibrosis is observed in the middle lobe.",
        "Parenchymal bands and scarring are seen at the lung bases.",
    ],
    "Pleural effusion": [
        "Pleural effusion reaching 25 mm in thickness is observed on the right.",
        "Bilateral pleural fluid is present.",
        "Fluid is observed in the left pleural space.",
        "Small bilateral effusions are present.",
    ],
    "Mosaic attenuation pattern": [
        "Mosaic attenuation pattern is observed in both lungs.",
        "There is a mosaic perfusion pattern in the lower lobes.",
    ],
    "Peribronchial thickening": [
        "Peribronchial thickening is observed in both lungs.",
        "Bronchial wall thickening is present in the lower lobes.",
        "The bronchial walls are mildly thickened.",
        "Thickening of the peribronchovascular interstitium is observed.",
        "Increase in bronchial wall thickness was observed in both lower lobes.",
    ],
    "Consolidation": [
        "Consolidation is observed in the lower lobe of the right lung.",
        "Consolidated areas containing air bronchograms are present.",
        "A consolidative area is seen in the lingula.",
    ],
    "Bronchiectasis": [
        "Cylindrical bronchiectasis is observed in both lower lobes.",
        "Traction bronchiectasis is present in the subpleural areas.",
        "Bronchiectatic changes are seen in the middle lobe.",
    ],
    "Interlobular septal thickening": [
        "Interlobular septal thickening is observed in both lungs.",
        "Thickening of the interlobular septa is present in the lower lobes.",
        "Ground glass opacities with crazy paving appearance are observed.",
    ],
}

#: label -> sentences in which the label is absent (negated, normal, or a look-alike of another organ).
NEGATIVE: dict[str, list[str]] = {
    "Medical material": ["Mediastinal structures cannot be evaluated optimally because contrast material is not given.",
                         "No medical material is seen."],
    "Arterial wall calcification": ["Calcified plaques are observed in the coronary arteries.",
                                    "No calcific plaque was observed in the aorta.",
                                    "Thoracic aorta diameter is normal.",
                                    "Aortic valve calcification is observed."],
    "Cardiomegaly": ["Heart contour and size are normal.", "Heart size is not increased.",
                     "The left atrium is enlarged.", "No cardiomegaly was detected."],
    "Pericardial effusion": ["Pericardial effusion-thickening was not observed.",
                             "No pleural or pericardial effusion was detected.", "Pericardial fluid was not detected."],
    "Coronary artery wall calcification": ["Calcific atheromatous plaques are observed in the aorta.",
                                           "No calcification was detected in the coronary arteries."],
    "Hiatal hernia": ["Thoracic esophagus calibration was normal and no significant tumoral wall thickening "
                      "was detected.", "No hiatal hernia was detected.", "An umbilical hernia is observed."],
    "Lymphadenopathy": [
        "No lymph node was observed in mediastinal and bilateral hilar pathological size and appearance.",
        "Millimetric lymph nodes are observed in the mediastinum.",
        "Lymph nodes in non-pathological size are seen in the mediastinum.",
        "A lymph node measuring 0.8 cm in short axis is seen in the right hilum.",
        "Lymph nodes with a short axis of 7 mm were observed in the mediastinum.",
        "In the mediastinum, lymph nodes with a short axis not exceeding 1 cm were observed.",
        "Lymph nodes not reaching pathological size are observed in the mediastinum.",
        "Mediastinal lymph nodes smaller than 1 cm in short axis are seen.",
        "A few subcentimeter lymph nodes are present in the prevascular area.",
        "No mediastinal lymphadenopathy.",
    ],
    "Emphysema": ["Subcutaneous emphysema is observed in the right chest wall.", "No emphysema was detected."],
    "Atelectasis": ["Aeration of both lungs is normal.", "Atelectasis was not observed."],
    "Lung nodule": ["A hypodense nodule is observed in the left lobe of the thyroid gland.",
                    "No nodular or infiltrative lesion was detected in the lung parenchyma.",
                    "No pulmonary nodule was detected."],
    "Lung opacity": ["No lytic-destructive lesions were detected in the bone structures within the sections.",
                     "No mass or infiltrative lesion was detected in both lungs.",
                     "A hypodense lesion with fluid density is observed in the liver."],
    "Pulmonary fibrotic sequela": ["No fibrotic changes were observed in the lungs.",
                                   "A fibroadenoma-like lesion is seen in the left breast."],
    "Pleural effusion": ["Pleural effusion-thickening was not detected.", "No pleural effusion was detected.",
                         "Pericardial effusion is observed.", "Without pleural effusion."],
    "Mosaic attenuation pattern": ["Mosaic attenuation pattern was not observed."],
    "Peribronchial thickening": ["No significant tumoral wall thickening was detected in the esophagus.",
                                 "Peribronchial thickening was not observed."],
    "Consolidation": ["No consolidation was detected.", "Lung parenchyma is free of consolidation.",
                      "A consolidated fracture of the left 6th rib is observed.",
                      "There is ground glass opacity without consolidation."],
    "Bronchiectasis": ["Trachea and both main bronchi are in the midline and no obstructive pathology is observed "
                       "in the lumen.", "No bronchiectasis was detected."],
    "Interlobular septal thickening": ["Interventricular septal thickening is observed.",
                                       "Interlobular septal thickening was not observed."],
}


@pytest.fixture(scope="module")
def labeler() -> RuleBasedLabeler:
    return RuleBasedLabeler()


def _positive(labeler: RuleBasedLabeler, text: str) -> set[str]:
    row = labeler.decide([text])[0]
    return {name for name, v in zip(labeler.labels, row) if v == 1}


def test_every_ctrate_label_has_positive_and_negative_sentences() -> None:
    assert set(POSITIVE) == set(CTRATE_LABELS)
    assert set(NEGATIVE) == set(CTRATE_LABELS)


@pytest.mark.parametrize(("label", "sentence"), [(k, s) for k, v in POSITIVE.items() for s in v])
def test_positive_sentence(labeler: RuleBasedLabeler, label: str, sentence: str) -> None:
    assert label in _positive(labeler, sentence), [(m.label, m.text, m.status) for m in labeler.annotate(sentence)]


@pytest.mark.parametrize(("label", "sentence"), [(k, s) for k, v in NEGATIVE.items() for s in v])
def test_negative_sentence(labeler: RuleBasedLabeler, label: str, sentence: str) -> None:
    assert label not in _positive(labeler, sentence), [(m.label, m.text, m.status) for m in labeler.annotate(sentence)]


def test_lexicon_covers_inspect_labels_and_documents_each() -> None:
    assert set(INSPECT_LABELS) <= set(LEXICON)
    text = describe()
    for name in INSPECT_LABELS:
        assert f"{name}: " in text
        assert LEXICON[name].description and LEXICON[name].terms


#: Hand-written CTPA impression sentences (ours), one positive and one negated per INSPECT entity
#: (RAD3D-Prefix paper, Table 6 order).
INSPECT_SENTENCES: list[tuple[str, str, str]] = [
    ("Embolism", "Acute pulmonary emboli in the right lower lobe segmental arteries.",
     "No evidence of pulmonary embolism to the subsegmental level."),
    ("Opacities", "Patchy ground-glass opacities in both upper lobes.",
     "No focal airspace opacity."),
    ("Nodules", "A 4 mm nodule in the left upper lobe, unchanged.",
     "No suspicious pulmonary nodules."),
    ("Disease", "Multifocal airspace disease in the right lung.",
     "No acute cardiopulmonary disease."),
    ("Atelectasis", "Dependent atelectasis at both lung bases.",
     "No atelectasis."),
    ("Infection", "Tree-in-bud nodularity in the right middle lobe compatible with infection.",
     "No findings of infection."),
    ("Thickening", "Mild bronchial wall thickening in the lower lobes.",
     "No pleural thickening."),
    ("Effusions", "Small bilateral pleural effusions.",
     "No pleural or pericardial effusion."),
    ("Edema", "Interlobular septal thickening consistent with mild interstitial edema.",
     "No pulmonary edema."),
    ("Aspiration", "Debris in the right mainstem bronchus from aspiration.",
     "No aspiration."),
    ("Consolidation", "Dense consolidation of the left lower lobe.",
     "No consolidation."),
    ("Mass", "A 3.2 cm spiculated mass in the right upper lobe.",
     "No hilar or mediastinal mass."),
    ("Pneumonia", "Left lower lobe pneumonia.",
     "No pneumonia."),
    ("Metastatic", "Innumerable pulmonary nodules consistent with metastatic disease.",
     "No evidence of metastatic disease in the chest."),
    ("Lymphadenopathies", "Bulky mediastinal and hilar lymphadenopathy.",
     "No thoracic lymphadenopathy."),
    ("Hypertension", "Enlarged main pulmonary artery, which can be seen with pulmonary arterial hypertension; "
                     "pulmonary hypertension is known.",
     "No signs of pulmonary hypertension."),
    ("Metastases", "Lytic osseous metastases in the thoracic spine.",
     "No hepatic metastases."),
    ("Lesions", "Two hypodense lesions in the liver, too small to characterize.",
     "No destructive osseous lesions."),
    ("Malignancy", "Findings are concerning for malignancy; a malignant mass is present.",
     "No evidence of malignancy."),
    ("Node", "A 12 mm subcarinal node.",
     "No enlarged lymph nodes."),
    ("Others", "Small right pneumothorax and a moderate hiatal hernia.",
     "No pneumothorax."),
]


@pytest.mark.parametrize(("label", "positive", "negated"), INSPECT_SENTENCES, ids=[t[0] for t in INSPECT_SENTENCES])
def test_inspect_entity_in_ctpa_impressions(label: str, positive: str, negated: str) -> None:
    lab = RuleBasedLabeler(labels="inspect")
    assert label in _positive(lab, positive), [(m.label, m.text, m.status) for m in lab.annotate(positive)]
    assert label not in _positive(lab, negated), [(m.label, m.text, m.status) for m in lab.annotate(negated)]


def test_inspect_sentences_cover_every_entity_in_table6_order() -> None:
    assert [t[0] for t in INSPECT_SENTENCES] == list(INSPECT_LABELS)


def test_inspect_whole_impression_decisions() -> None:
    lab = RuleBasedLabeler(labels="inspect")
    impression = ("1. Acute pulmonary embolism involving the right lower lobe segmental arteries. "
                  "2. Small left pleural effusion with adjacent atelectasis. "
                  "3. No suspicious pulmonary nodules or mass. "
                  "4. Possible early pneumonia in the lingula.")
    row = dict(zip(INSPECT_LABELS, lab.decide([impression])[0].tolist()))
    positives = {k for k, v in row.items() if v == 1}
    assert positives == {"Embolism", "Effusions", "Atelectasis", "Pneumonia"}, positives
    strict = RuleBasedLabeler(labels="inspect", uncertain="ignore")
    assert strict.decide([impression])[0][INSPECT_LABELS.index("Pneumonia")] == -1


def test_inspect_lexicon_terms_do_not_misfire() -> None:
    lab = RuleBasedLabeler(labels="inspect")
    assert "Mass" not in _positive(lab, "There is mass effect on the right atrium.")
    assert "Embolism" not in _positive(lab, "Embolization material in the left renal artery.")
    assert "Effusions" not in _positive(lab, "Small knee joint effusion.")


def test_term_requires_and_excludes() -> None:
    term = Term(r"\bcalcif\w*", requires=r"\baort\w*", excludes=r"\blymph")
    assert term.find("calcification of the aorta") == [(0, 13)]
    assert term.find("calcification of the trachea") == []
    assert term.find("calcified lymph node next to the aorta") == []
