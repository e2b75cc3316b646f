"""Names and free text for the fictional group. Every person's name here is invented."""

from __future__ import annotations

import numpy as np

from contracts.export import THEMES

REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)
PLACES = (
    "Ashfield",
    "Beechwood",
    "Cedar",
    "Dunmore",
    "Elmhurst",
    "Fernlea",
    "Glenview",
    "Hawthorn",
    "Ivydene",
    "Juniper",
    "Kingsmead",
    "Larchfield",
    "Meadowbank",
    "Northgate",
    "Oakridge",
    "Parkside",
    "Queensway",
    "Riverside",
    "Southfields",
    "Thornbury",
    "Upton",
    "Valley View",
    "Willowbrook",
    "Yewtree",
)
SUFFIXES = {
    "care_home_residential": ("House", "Lodge", "Court", "Manor"),
    "care_home_nursing": ("Nursing Home", "Care Centre", "Court"),
    "domiciliary_care": ("Home Care", "Care at Home", "Community Care"),
    "supported_living": ("Supported Living", "Independent Living Service"),
    "extra_care": ("Extra Care Scheme", "Village"),
    "hospice": ("Hospice",),
    "other": ("Care Service",),
}
TEAM_STYLES = {
    "care_home": (
        "Rose Wing",
        "Lavender Wing",
        "Bluebell Unit",
        "Ground Floor",
        "First Floor",
        "Second Floor",
        "Night Team",
        "Memory Lane Unit",
    ),
    "community": (
        "North Branch",
        "South Branch",
        "East Patch",
        "West Patch",
        "Town Centre Round",
        "Rural Round",
        "Night Support",
        "Weekend Team",
    ),
    "supported": (
        "Maple House",
        "Birch House",
        "Cherry Flat",
        "Holly Flats",
        "Outreach Team",
        "Day Team",
        "Waking Nights",
        "Sleep-in Team",
    ),
}
STYLE_OF_TYPE = {
    "care_home_residential": "care_home",
    "care_home_nursing": "care_home",
    "hospice": "care_home",
    "domiciliary_care": "community",
    "extra_care": "community",
    "other": "community",
    "supported_living": "supported",
}
# Invented first names: staff are named in praise and in complaints alike.
FIRST_NAMES = (
    "Priya",
    "Tomasz",
    "Aisha",
    "Gareth",
    "Mei",
    "Olu",
    "Bronwen",
    "Dariusz",
    "Fatima",
    "Callum",
    "Ngozi",
    "Siobhan",
    "Ravi",
    "Elena",
    "Kwame",
    "Hannah",
)
THEME_WORDS = {
    "documentation": "the care records",
    "medicines": "the medicines round",
    "falls": "falls and moving about",
    "pressure_care": "skin and pressure care",
    "infection_prevention": "cleanliness and hand hygiene",
    "safeguarding": "feeling safe",
    "nutrition_hydration": "meals and drinks",
    "staffing": "staffing levels",
    "training_competency": "how well staff are trained",
    "consent_capacity": "being asked first",
    "person_centred_care": "being treated as a person",
    "complaints_handling": "how complaints are handled",
    "governance": "how the home is run",
    "environment": "the building and garden",
    "other": "day-to-day care",
}
TEMPLATES = {
    -1: (
        "Not happy with {topic}, it has slipped again.",
        "Mum told us {topic} was poor this month, nobody seemed to know her plan.",
        "Raised {topic} twice, still waiting for an answer.",
        "Worried about {topic}; agency staff did not know the routine.",
    ),
    0: (
        "{topic} is fine, some days better than others.",
        "No real change in {topic} that we have noticed.",
        "Mixed: {topic} good in the week, less so at weekends.",
    ),
    1: (
        "Really pleased with {topic}, thank you.",
        "{topic} has improved a lot, Dad is much more settled.",
        "Lovely team, {topic} is much better now.",
    ),
}
NAMED_SUFFIXES = (
    " {name} was brilliant.",
    " Please thank {name}.",
    " {name} was rude to us.",
    " Spoke to {name} about it.",
)


def service_names(service_type: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """'<place> <suffix>' names that fit each service type (not unique)."""
    place = np.array(PLACES, dtype=object)[rng.integers(0, len(PLACES), len(service_type))]
    pick = rng.random(len(service_type))
    suffix = np.array(
        [_pick(SUFFIXES[t], u) for t, u in zip(service_type, pick, strict=True)], dtype=object
    )
    return place + " " + suffix


def region_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """English regions, some left empty as real exports often do."""
    region = np.array(REGIONS, dtype=object)[rng.integers(0, len(REGIONS), n)]
    return np.where(rng.random(n) < 0.05, "", region).astype(object)


def team_names(
    service_type: np.ndarray, teams: np.ndarray, width: int, rng: np.random.Generator
) -> np.ndarray:
    """(S, width) distinct team names per service in its style; '' beyond its team count."""
    styles = np.array([STYLE_OF_TYPE[t] for t in service_type], dtype=object)
    out = np.full((len(teams), width), "", dtype=object)
    for style, names in TEAM_STYLES.items():
        rows = np.flatnonzero(styles == style)
        order = np.argsort(rng.random((len(rows), len(names))), axis=1)[:, :width]
        out[rows] = np.array(names, dtype=object)[order]
    return np.where(np.arange(width)[None, :] < teams[:, None], out, "")


def feedback_texts() -> np.ndarray:
    """All (sentiment, theme, template, name) texts, indexed by `feedback_text_index`."""
    out = []
    for sentiment in (-1, 0, 1):
        for theme in THEMES:
            topic = THEME_WORDS[theme]
            for template in _templates(sentiment):
                base = template.format(topic=topic)
                base = base[0].upper() + base[1:]
                out.append(base)
                out.extend(base + s.format(name=n) for s in NAMED_SUFFIXES for n in FIRST_NAMES)
    return np.array(out, dtype=object)


def feedback_text_index(sentiment, theme, named, rng: np.random.Generator) -> np.ndarray:
    """Index into `feedback_texts()` for each piece of feedback (a name when `named`)."""
    variants = 1 + len(NAMED_SUFFIXES) * len(FIRST_NAMES)
    per_theme = 4 * variants  # every sentiment's templates padded to four
    n = len(sentiment)
    template = rng.integers(0, 4, n)
    name_variant = 1 + rng.integers(0, variants - 1, n)
    return (
        (sentiment + 1) * len(THEMES) * per_theme
        + theme * per_theme
        + template * variants
        + np.where(named, name_variant, 0)
    )


def _templates(sentiment: int) -> tuple[str, ...]:
    found = TEMPLATES[sentiment]
    return tuple(found[i % len(found)] for i in range(4))


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[min(int(u * len(options)), len(options) - 1)]
