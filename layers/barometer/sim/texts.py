"""Post texts for the simulated world, drawn from the topic families of the panel's sector.

A `Sector` holds a sector's wording: families → keywords, their hashtags and article forms,
the share of each family in brand posts and in posts by others, the templates and the phrases
they draw from, and the bios and institutions of the simulated population. Every generated
text contains at least one keyword of its family *literally*, so the sector's keyword taxonomy
can tag it. The pharma sector is the module constants below (the 2018 barometer's world: brand
posts lean on pathologies, innovation and causes; posts by others on industry news and
scandals); the other sectors are data (`barometer/sim/sectors/*.yaml`, see `sim.sectors`).

All randomness comes from the `random.Random` passed in: texts are deterministic per seed, and
the pharma sector draws exactly as it always has (the demo's pinned figures depend on it).
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass
from functools import cache

# family id → (French label, keywords). A keyword is the literal string put in the text.
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pathologies": (
        "Pathologies",
        (
            "cancer",
            "asthme",
            "diabète",
            "maladies rares",
            "VIH",
            "hépatite",
            "vaccination",
            "grippe",
            "sclérose en plaques",
            "Alzheimer",
            "polyarthrite",
            "mélanome",
        ),
    ),
    "innovation": (
        "Innovation santé",
        (
            "recherche",
            "essais cliniques",
            "e-santé",
            "intelligence artificielle",
            "biotechnologies",
            "immunothérapie",
            "thérapie génique",
            "start-up",
            "données de santé",
        ),
    ),
    "causes": (
        "Grandes causes",
        (
            "Mois sans tabac",
            "don d'organes",
            "dépistage",
            "octobre rose",
            "journée mondiale",
            "aidants",
            "Téléthon",
            "movember",
        ),
    ),
    "industrie": (
        "Actualité de l'industrie",
        (
            "réglementation",
            "prix des médicaments",
            "ventes",
            "restructuration",
            "plan social",
            "ANSM",
            "HAS",
            "chiffre d'affaires",
            "LEEM",
            "emploi",
            "usine",
            "PLFSS",
        ),
    ),
    "scandales": (
        "Scandales",
        (
            "Levothyrox",
            "Dépakine",
            "rappel de lots",
            "pénurie",
            "effets secondaires",
            "indemnisation",
            "plainte",
            "Mediator",
        ),
    ),
}

# Hashtag forms of some keywords (camel-cased as French accounts write them).
_HASHTAGS: dict[str, str] = {
    "cancer": "#cancer",
    "asthme": "#asthme",
    "diabète": "#diabète",
    "maladies rares": "#MaladiesRares",
    "VIH": "#VIH",
    "hépatite": "#hépatite",
    "vaccination": "#vaccination",
    "grippe": "#grippe",
    "sclérose en plaques": "#SEP",
    "Alzheimer": "#Alzheimer",
    "polyarthrite": "#polyarthrite",
    "mélanome": "#mélanome",
    "recherche": "#recherche",
    "essais cliniques": "#EssaisCliniques",
    "e-santé": "#esante",
    "intelligence artificielle": "#IA",
    "biotechnologies": "#biotech",
    "immunothérapie": "#immunothérapie",
    "thérapie génique": "#ThérapieGénique",
    "start-up": "#startup",
    "données de santé": "#DataSanté",
    "Mois sans tabac": "#MoisSansTabac",
    "don d'organes": "#DonDOrganes",
    "dépistage": "#dépistage",
    "octobre rose": "#OctobreRose",
    "journée mondiale": "#JournéeMondiale",
    "aidants": "#aidants",
    "Téléthon": "#Téléthon",
    "movember": "#movember",
    "réglementation": "#réglementation",
    "prix des médicaments": "#médicaments",
    "ventes": "#pharma",
    "restructuration": "#pharma",
    "plan social": "#PlanSocial",
    "ANSM": "#ANSM",
    "HAS": "#HAS",
    "chiffre d'affaires": "#résultats",
    "LEEM": "#LEEM",
    "emploi": "#emploi",
    "usine": "#industrie",
    "PLFSS": "#PLFSS",
    "Levothyrox": "#Levothyrox",
    "Dépakine": "#Dépakine",
    "rappel de lots": "#rappel",
    "pénurie": "#pénurie",
    "effets secondaires": "#EffetsSecondaires",
    "indemnisation": "#Dépakine",
    "plainte": "#justice",
    "Mediator": "#Mediator",
}
_GENERIC_TAGS = ("#santé", "#pharma", "#patients", "#France", "#innovation", "#SantéPublique")

# Share of each family in brand posts and in posts by others (the study's topic split).
BRAND_MIX: dict[str, float] = {
    "pathologies": 0.42,
    "innovation": 0.30,
    "causes": 0.22,
    "industrie": 0.05,
    "scandales": 0.01,
}
MENTION_MIX: dict[str, float] = {
    "pathologies": 0.12,
    "innovation": 0.10,
    "causes": 0.06,
    "industrie": 0.44,
    "scandales": 0.28,
}

_BRAND_TEMPLATES = (
    "{kw_cap} : {fact_brand}. {tags}",
    "Nos équipes mobilisées contre {kw_art} : {fact_brand}. {tags} {link}",
    "{event} {kw_art}. {fact_brand} {tags}",
    "Chiffre clé : {pct} % des patients touchés par {kw_art} {stat}. {tags} {link}",
    "Retour en images sur notre journée consacrée à {kw_art} avec des patients et des soignants {tags}",
    "{kw_cap} : découvrez le témoignage de {person}, {role}. {link} {tags}",
    "Rendez-vous {when} pour échanger sur {kw_art} et l'accès des patients à l'innovation. {tags}",
    "Fiers d'accompagner {partner} dans son engagement sur {kw_art} {tags} {link}",
    "{kw_cap}, où en est-on ? {fact_brand} {link}",
    "Merci à tous les participants de notre table ronde sur {kw_art} ! {tags}",
)
_REPLY_TEMPLATES = (
    "Merci pour votre message sur {kw_art}, nous vous répondons en DM.",
    "Bonjour, vous trouverez plus d'informations sur {kw_art} ici : {link}",
    "Merci pour ce partage ! {kw_cap} reste une priorité pour nos équipes. {tags}",
)
_QUOTE_TEMPLATES = (
    "À lire : un éclairage utile sur {kw_art}. {tags}",
    "{kw_cap} : un grand bravo aux équipes ! {tags}",
)
_MENTION_TEMPLATES = (
    "{brand} et {kw_art} : {fact_news} {link}",
    "{kw_cap} : {brand} {verb_news} {tags} {link}",
    "Encore une histoire de {kw} chez {brand}… {opinion} {tags}",
    "{opinion} {brand} {verb_news} ({kw}) {link}",
    "[{press}] {kw_cap} : {brand} {verb_news} {link}",
    "Quelqu'un a des nouvelles de {brand} sur {kw_art} ? {opinion}",
    "{brand} {verb_news}. Question de {kw} ou de communication ? {tags}",
    "Table ronde {kw} ce matin avec {brand}, {person} et des associations de patients {tags}",
    "{kw_cap} : {fact_news} On attend la réaction de {brand}. {tags}",
    "Intéressant : {brand} parle de {kw} {tags} {link}",
)
_NOISE_TEMPLATES = (
    "{kw_cap} : {fact_news} {tags} {link}",
    "{opinion} {kw_cap}, toujours le même problème. {tags}",
    "[{press}] {kw_cap} : {fact_news} {link}",
    "{other} {verb_news} ({kw}) {link}",
)

_FACT_BRAND = (
    "la recherche avance grâce aux patients et aux soignants",
    "plus de 2 000 collaborateurs engagés partout en France",
    "un nouveau programme d'accompagnement des patients lancé ce mois-ci",
    "nous soutenons les associations de patients depuis plus de 20 ans",
    "un partenariat inédit avec des hôpitaux français",
    "mieux informer, mieux dépister, mieux soigner",
    "des solutions pour améliorer la vie quotidienne des malades",
    "plus de 30 études en cours en France",
    "l'innovation au service des patients, de la paillasse au chevet",
    "un engagement de long terme aux côtés des soignants",
)
_FACT_NEWS = (
    "la ministre annonce une révision des règles.",
    "les syndicats dénoncent la décision.",
    "les patients attendent toujours des réponses.",
    "l'agence publie un nouveau rapport.",
    "des centaines d'emplois menacés en France.",
    "les associations de patients demandent la transparence.",
    "le dossier arrive devant la justice.",
    "les pharmaciens alertent sur les ruptures de stock.",
    "les résultats annuels sont publiés ce matin.",
    "le gouvernement veut baisser la facture.",
)
_VERB_NEWS = (
    "annonce la suppression de postes en France",
    "publie ses résultats annuels",
    "visé par une enquête",
    "répond aux questions des patients",
    "investit dans un nouveau site de production",
    "annonce un accord avec les autorités",
    "face aux critiques des associations",
    "lance un nouveau traitement",
    "rappelle plusieurs lots",
    "défend sa politique de prix",
)
_OPINION = (
    "Incroyable.",
    "Bonne nouvelle !",
    "Scandaleux.",
    "À suivre.",
    "Enfin !",
    "Inquiétant…",
    "Je n'en reviens pas.",
    "Pas surprenant.",
    "Thread 👇",
    "Bravo.",
    "Toujours pas de réponse…",
)
_EVENT = (
    "Aujourd'hui c'est la journée de sensibilisation à",
    "Cette semaine, focus sur",
    "Nouveau dossier en ligne consacré à",
    "Conférence ce soir sur",
    "Webinar patients :",
)
_STAT = (
    "ne sont pas diagnostiqués",
    "ignorent leur maladie",
    "attendent un traitement adapté",
    "vivent en Île-de-France",
    "ont moins de 40 ans",
)
_PERSON = (
    "Claire, infirmière",
    "Dr Martin",
    "Sophie, patiente",
    "Karim, chercheur",
    "Pr Lefèvre",
    "Julie, aidante",
    "Thomas, pharmacien",
    "Nathalie, médecin généraliste",
)
_ROLE = (
    "engagée depuis 10 ans",
    "qui a participé à l'étude",
    "au cœur de notre laboratoire de Lyon",
    "bénévole dans une association",
    "notre responsable médicale",
)
_WHEN = (
    "demain à 14h",
    "jeudi au salon #VivaTech",
    "ce soir sur notre page",
    "lundi à Paris",
    "la semaine prochaine à Lyon",
)
_PARTNER = (
    "les associations de patients",
    "l'AP-HP",
    "l'Institut Curie",
    "la Ligue contre le cancer",
    "les pharmaciens d'officine",
    "les jeunes chercheurs",
)
_PRESS = (
    "Le Monde",
    "Les Echos",
    "Le Figaro Santé",
    "Libération",
    "France Info",
    "Le Parisien",
    "APM News",
    "Pharmaceutiques",
)
_OTHERS = ("Pfizer", "Roche", "Novartis", "Bayer", "Servier", "Ipsen", "Merck", "Teva", "Mylan")
_LINK_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

_ARTICLE = {
    "cancer": "le cancer",
    "asthme": "l'asthme",
    "diabète": "le diabète",
    "maladies rares": "les maladies rares",
    "VIH": "le VIH",
    "hépatite": "l'hépatite C",
    "vaccination": "la vaccination",
    "grippe": "la grippe",
    "sclérose en plaques": "la sclérose en plaques",
    "Alzheimer": "la maladie d'Alzheimer",
    "polyarthrite": "la polyarthrite",
    "mélanome": "le mélanome",
    "recherche": "la recherche",
    "essais cliniques": "les essais cliniques",
    "e-santé": "l'e-santé",
    "intelligence artificielle": "l'intelligence artificielle",
    "biotechnologies": "les biotechnologies",
    "immunothérapie": "l'immunothérapie",
    "thérapie génique": "la thérapie génique",
    "start-up": "les start-up de la santé",
    "données de santé": "les données de santé",
    "Mois sans tabac": "le Mois sans tabac",
    "don d'organes": "le don d'organes",
    "dépistage": "le dépistage",
    "octobre rose": "octobre rose",
    "journée mondiale": "la journée mondiale du diabète",
    "aidants": "les aidants",
    "Téléthon": "le Téléthon",
    "movember": "movember",
    "réglementation": "la réglementation",
    "prix des médicaments": "le prix des médicaments",
    "ventes": "les ventes",
    "restructuration": "la restructuration",
    "plan social": "le plan social",
    "ANSM": "l'ANSM",
    "HAS": "la HAS",
    "chiffre d'affaires": "le chiffre d'affaires",
    "LEEM": "le LEEM",
    "emploi": "l'emploi",
    "usine": "l'usine",
    "PLFSS": "le PLFSS",
    "Levothyrox": "le Levothyrox",
    "Dépakine": "la Dépakine",
    "rappel de lots": "le rappel de lots",
    "pénurie": "la pénurie",
    "effets secondaires": "les effets secondaires",
    "indemnisation": "l'indemnisation des victimes",
    "plainte": "la plainte",
    "Mediator": "le Mediator",
}


def _cumulative(mix: dict[str, float]) -> tuple[float, ...]:
    total = sum(mix.values())
    acc, out = 0.0, []
    for w in mix.values():
        acc += w / total
        out.append(acc)
    return tuple(out)


_MENTION_REPLY_TEMPLATES = (
    "{opinion} Et sur {kw_art}, vous comptez faire quoi ?",
    "Merci pour ces infos sur {kw_art} {tags}",
    "Et {kw_art}, on en parle ? {opinion}",
)


@dataclass(frozen=True)
class Sector:
    """A sector's wording for the simulator (see the module docstring)."""

    id: str
    families: dict[str, tuple[str, tuple[str, ...]]]  # family id → (label, keywords as written)
    hashtags: dict[str, str]  # keyword → its hashtag
    default_tag: str  # hashtag of a keyword without one
    generic_tags: tuple[str, ...]
    articles: dict[str, str]  # keyword → with its article ("le diabète")
    brand_mix: dict[str, float]  # family id → share in brand posts
    mention_mix: dict[str, float]  # family id → share in posts by others
    # brand, reply, quote, mention, mention_reply, noise → templates
    templates: dict[str, tuple[str, ...]]
    picks: dict[str, tuple[str, ...]]  # template field → phrases
    bios: tuple[str, ...] = ()  # other authors' bios (empty: the default pool)
    institutions: tuple[tuple[str, str], ...] = ()  # (handle, name) brand posts tag
    lang: str = "fr"
    # Contract "à le" → "au", "de les" → "des"… in the rendered text (the pharma world predates it).
    contract: bool = False

    def keywords(self) -> list[tuple[str, str]]:
        """(family id, keyword) of every keyword the texts may contain."""
        return [(f, kw) for f, (_, kws) in self.families.items() for kw in kws]


TEMPLATE_KINDS = ("brand", "reply", "quote", "mention", "mention_reply", "noise")


@dataclass(frozen=True)
class Text:
    text: str
    family: str
    keyword: str


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


_FORMATTER = string.Formatter()
# French contractions of a preposition and an article ("consacrée à le crédit" → "au crédit").
_CONTRACTED = {"à le ": "au ", "à les ": "aux ", "de le ": "du ", "de les ": "des "}
_CONTRACTIONS = re.compile(r"\b(?:à le|à les|de le|de les) ", re.IGNORECASE)


@cache
def _fields_of(template: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in _FORMATTER.parse(template) if f)


_PICKS: dict[str, tuple[str, ...]] = {
    "fact_brand": _FACT_BRAND,
    "fact_news": _FACT_NEWS,
    "verb_news": _VERB_NEWS,
    "opinion": _OPINION,
    "event": _EVENT,
    "stat": _STAT,
    "person": _PERSON,
    "role": _ROLE,
    "when": _WHEN,
    "partner": _PARTNER,
    "press": _PRESS,
    "other": _OTHERS,
    "pct": ("12", "18", "25", "30", "40", "50", "60", "75"),
}

# The pharma world's wording (its population's bios and institutions: `sim.sectors.PHARMA`).
PHARMA_TEXTS = Sector(
    "pharma", FAMILIES, _HASHTAGS, "#santé", _GENERIC_TAGS, _ARTICLE, BRAND_MIX, MENTION_MIX,
    {"brand": _BRAND_TEMPLATES, "reply": _REPLY_TEMPLATES, "quote": _QUOTE_TEMPLATES,
     "mention": _MENTION_TEMPLATES, "mention_reply": _MENTION_REPLY_TEMPLATES, "noise": _NOISE_TEMPLATES},
    _PICKS,
)


class TextMaker:
    """Composes tweets from templates, drawing every choice from the `random.Random` given.

    Generation speed matters (≈120k texts per pharma world), hence index draws from
    `random()` rather than `choice()`, and only the fields a template uses are drawn.
    """

    def __init__(self, rng: random.Random, sector: Sector | None = None) -> None:
        self.rng = rng
        self.sector = s = sector or PHARMA_TEXTS
        self._links = tuple(
            "https://t.co/" + "".join(rng.choice(_LINK_CHARS) for _ in range(10)) for _ in range(4096)
        )
        self._fams = {
            name: (tuple(mix), _cumulative(mix))
            for name, mix in (("brand", s.brand_mix), ("mention", s.mention_mix))
        }
        self._t = s.templates

    def _pick(self, seq: tuple[str, ...]) -> str:
        return seq[int(self.rng.random() * len(seq))]

    def _render(self, templates: tuple[str, ...], mix: str, **extra: str) -> Text:
        r = self.rng.random
        s = self.sector
        fams, cum = self._fams[mix]
        x = r()
        fam = fams[-1]
        for f, c in zip(fams, cum, strict=True):
            if x < c:
                fam = f
                break
        kw = self._pick(s.families[fam][1])
        template = self._pick(templates)
        fields: dict[str, str] = {}
        for name in _fields_of(template):
            if name in extra:
                fields[name] = extra[name]
            elif name == "kw":
                fields[name] = kw
            elif name == "kw_cap":
                fields[name] = _cap(kw)
            elif name == "kw_art":
                fields[name] = s.articles.get(kw, kw)
            elif name == "tags":
                tag = s.hashtags.get(kw, s.default_tag)
                fields[name] = f"{tag} {self._pick(s.generic_tags)}" if r() < 0.5 else tag
            elif name == "link":
                fields[name] = self._links[int(r() * 4096)] if r() < 0.45 else ""
            else:
                fields[name] = self._pick(s.picks[name])
        text = template.format(**fields)
        if "  " in text or text.endswith(" "):
            text = " ".join(text.split())
        if s.contract:
            text = _CONTRACTIONS.sub(lambda m: _CONTRACTED[m.group(0).lower()], text)
        return Text(text, fam, kw)

    def brand_post(self) -> Text:
        return self._render(self._t["brand"], "brand")

    def brand_reply(self, to_handle: str) -> Text:
        t = self._render(self._t["reply"], "brand")
        return Text(f"@{to_handle} {t.text}", t.family, t.keyword)

    def brand_quote(self) -> Text:
        return self._render(self._t["quote"], "brand")

    def mention(self, brand_ref: str) -> Text:
        """A post by someone else naming a brand (`brand_ref` is '@handle' or its name)."""
        return self._render(self._t["mention"], "mention", brand=brand_ref)

    def mention_reply(self, to_handle: str) -> Text:
        t = self._render(self._t["mention_reply"], "mention")
        return Text(f"@{to_handle} {t.text}", t.family, t.keyword)

    def noise(self) -> Text:
        """A post of the sector naming no panel brand (search must not match it)."""
        return self._render(self._t["noise"], "mention")

    @staticmethod
    def retweet(handle: str, text: str) -> str:
        # X truncates the retweeted text in the retweet's own `text`.
        full = f"RT @{handle}: {text}"
        return full if len(full) <= 140 else full[:139] + "…"
