"""Languages of the site: URL layout, interface strings and number/date formatting (fr, en).

The first language of `PublishOptions.languages` lives at the site root; every other one
under `/<lang>/`. Page paths are directory-style (`marques/sanofi/` → `marques/sanofi/index.html`).
"""

from __future__ import annotations

import builtins
import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from barometer.publish.texts import EXTRA

LANGS = ("fr", "en")

# Path segments per language.
SLUGS: dict[str, dict[str, str]] = {
    "fr": {"brand": "marques", "methodology": "methodologie", "data": "donnees", "archives": "archives",
           "compare": "comparer", "indicators": "indicateurs", "network": "reseau"},
    "en": {"brand": "brands", "methodology": "methodology", "data": "data", "archives": "archives",
           "compare": "compare", "indicators": "indicators", "network": "network"},
}

LANG_NAMES = {"fr": "Français", "en": "English"}

MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}
MONTHS_SHORT = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

NBSP = "\u00a0"  # between a count and its noun
NNBSP = "\u202f"  # French thousands separator and space before %
DASH = "–"  # en dash (ranges)
MISSING = "—"  # em dash (no data)


NETWORK_NAMES = {"x": "X", "bluesky": "Bluesky"}


def _names(lang: str, networks: Sequence[str]) -> str:
    names = [NETWORK_NAMES.get(n, n) for n in networks] or [NETWORK_NAMES["x"]]
    last = " et " if lang == "fr" else " and "
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + last + names[-1]


def networks_text(lang: str, networks: Sequence[str], combined: bool = False) -> str:
    """The networks a text is about, named for a sentence ("sur X", "sur X et Bluesky"); with
    `combined`, an index over several of them says so ("X et Bluesky réunis", "X and Bluesky
    combined"). No network (a panel without accounts): X."""
    text = _names(lang, networks)
    if combined and len(networks) > 1:
        text += " réunis" if lang == "fr" else " combined"
    return text


def simulators_text(lang: str, networks: Sequence[str]) -> str:
    """What simulated the data: "simulateur de l'API X", "X and Bluesky API simulators"."""
    several = len(networks) > 1
    if lang == "fr":
        return f"simulateurs des API {_names(lang, networks)}" if several else \
            f"simulateur de l'API {_names(lang, networks)}"
    if several:
        return f"{_names(lang, networks)} API simulators"
    name = _names(lang, networks)
    return f"{'an' if name[:1] in 'AEFHILMNORSX' else 'a'} {name} API simulator"


def page_path(lang: str, default: str, kind: str, arg: str = "") -> str:
    """Directory path (no leading slash, trailing slash unless root) of a page in a language."""
    prefix = "" if lang == default else f"{lang}/"
    s = SLUGS[lang]
    if kind == "home":
        return prefix
    if kind == "brand":
        return f"{prefix}{s['brand']}/{arg}/"
    if kind == "archive_day":
        return f"{prefix}{s['archives']}/{arg}/"
    if kind == "indicator":
        return f"{prefix}{s['indicators']}/{arg}/"
    if kind == "network":  # the leaderboard of one network (a panel on several)
        return f"{prefix}{s['network']}/{arg}/"
    return f"{prefix}{s[kind]}/"


def relative_root(path: str) -> str:
    """The relative prefix from a page at `path` back to the site root."""
    depth = path.count("/")
    return "../" * depth


@dataclass(frozen=True)
class Fmt:
    """Locale formatting for one language (used by templates as `f`)."""

    lang: str

    @property
    def dec(self) -> str:
        return "," if self.lang == "fr" else "."

    def num(self, x: Any, digits: int = 1) -> str:
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return MISSING
        s = f"{float(x):,.{digits}f}"
        if self.lang == "fr":
            s = s.replace(",", NNBSP).replace(".", ",")
        return s.replace("-", "−")

    def int(self, x: Any) -> str:
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return MISSING
        s = f"{round(float(x)):,d}"
        if self.lang == "fr":
            s = s.replace(",", NNBSP)
        return s.replace("-", "−")

    def plural(self, n: Any, forms: str) -> str:
        """The form of `forms` ("one|other") for the count `n`: French takes the singular for 0
        and 1 (and 1.5: the integer part decides), English for exactly 1."""
        one, _, other = forms.partition("|")
        v = abs(float(n or 0))
        singular = int(v) < 2 if self.lang == "fr" else v == 1
        return one if singular or not other else other

    def count(self, n: Any, forms: str) -> str:
        """`n` and its noun: "1 réponse", "2 réponses", "0 réponse"; "1 reply", "0 replies"."""
        return f"{self.int(n)}{NBSP}{self.plural(n, forms)}"

    def pct(self, x: Any, digits: builtins.int = 1, signed: bool = False, ratio: bool = True) -> str:
        """A percentage; `ratio` means x is a fraction (0.125 → 12.5 %)."""
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return MISSING
        v = float(x) * (100 if ratio else 1)
        body = self.num(abs(v) if signed else v, digits)
        if signed:
            body = ("+" if v >= 0 else "−") + body
        return f"{body}{NNBSP}%" if self.lang == "fr" else f"{body}%"

    def date(self, d: _dt.date | None) -> str:
        if d is None:
            return MISSING
        if self.lang == "fr":
            day = "1er" if d.day == 1 else str(d.day)
            return f"{day} {MONTHS['fr'][d.month - 1]} {d.year}"
        return f"{d.day} {MONTHS['en'][d.month - 1]} {d.year}"

    def short_date(self, d: _dt.date) -> str:
        return f"{MONTHS_SHORT[self.lang][d.month - 1]} {d.year}"

    def short_day(self, d: _dt.date) -> str:
        if self.lang == "fr":
            return f"{d.day} {MONTHS_SHORT['fr'][d.month - 1]} {d.year}"
        return f"{d.day} {MONTHS_SHORT['en'][d.month - 1]} {d.year}"

    def datetime(self, ts: _dt.datetime | None, tz_label: str = "UTC") -> str:
        if ts is None:
            return MISSING
        if self.lang == "fr":
            return f"{self.date(ts.date())} à {ts:%H:%M} ({tz_label})"
        return f"{self.date(ts.date())} at {ts:%H:%M} ({tz_label})"


# Interface strings. Placeholders are filled with str.format in templates (`t.x.format(...)`).
STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "skip": "Aller au contenu",
        "nav_label": "Navigation principale",
        "nav_home": "Classement",
        "nav_methodology": "Méthodologie",
        "nav_data": "Données",
        "nav_archives": "Archives",
        "lang_label": "Langue",
        "switch_to": "Read in English",
        "simulated": "Données simulées",
        "simulated_text": "ce classement est calculé à partir d'un monde simulé ({simulators}), "
                          "pas de données réelles.",
        "updated": "Mis à jour le {when}",
        "data_of": "Données au {date}",
        "window": "Fenêtre d'analyse : du {start} au {end}",
        "home_title": "Classement du leadership d'opinion",
        "home_intro": "Indice de leadership d'opinion (0 à 100) de {n} sur {networks}, "
                      "calculé à partir de huit indicateurs regroupés en trois attributs.",
        "lb_caption": "Classement au {date} : rang, évolution, indice de leadership, attributs et fourchette "
                      "de rang",
        "col_rank": "Rang",
        "col_change": "Évolution",
        "col_brand": "Marque",
        "col_leadership": "Leadership",
        "col_band": "Fourchette",
        "band_help": "Fourchette de rang : rangs atteints dans 90 % des variantes de calcul "
                     "(analyse de sensibilité, 5e–95e centile).",
        "change_help": "Évolution : places gagnées (▲) ou perdues (▼) depuis le calcul précédent.",
        "up": "gagne {n}",
        "down": "perd {n}",
        "same": "stable",
        "new": "nouveau",
        "sort_hint": "Cliquez sur un en-tête de colonne pour trier.",
        "brand_rank": "{rank}e sur {n}",
        "brand_rank_1": "1re sur {n}",
        "key_figures": "Chiffres clés",
        "rank": "Rang",
        "rank_band": "Fourchette de rang",
        "change": "Évolution",
        "history": "Historique",
        "history_title": "Historique de l'indice de leadership et des attributs de {name}",
        "history_desc": "Évolution du {start} au {end} ({n}). Dernières valeurs : {last}.",
        "history_table": "Données du graphique",
        "history_caption": "Scores de {name} par date de calcul",
        "history_sampled": "{shown} dates sur {n} ; l'historique complet est dans les téléchargements.",
        "date": "Date",
        "indicators": "Indicateurs",
        "ind_caption": "Indicateurs de {name} au {date} : valeur, score normalisé (0–100) et contribution "
                       "à l'indice (points)",
        "col_indicator": "Indicateur",
        "col_attribute": "Attribut",
        "col_value": "Valeur",
        "estimated_title": "estimée",
        "estimated_legend": "≈ : valeur estimée à partir d'un échantillon des mentions, lues dans la limite du "
                            "budget quotidien de collecte ; ± : son erreur type (méthodologie).",
        "col_score": "Score",
        "col_contribution": "Contribution",
        "topics": "Thématiques",
        "topics_intro": "Part des publications de la marque et des mentions par d'autres comptes qui "
                        "abordent chaque thématique sur la fenêtre.",
        "topics_caption": "Thématiques de {name} : part des publications et des mentions",
        "col_topic": "Thématique",
        "col_family": "Famille",
        "col_posts": "Publications",
        "col_mentions": "Mentions",
        "no_topics": "Aucune thématique détectée sur la fenêtre.",
        "posts": "Publications les plus engageantes",
        "posts_intro": "Publications de la marque créées dans la fenêtre, classées par interactions "
                       "(j'aime, reposts, réponses, citations ; dernière observation).",
        "no_posts": "Aucune publication sur la fenêtre.",
        "post_link": "Voir la publication du {date} sur {network}",
        "interactions": "interaction|interactions",
        "likes": "j'aime|j'aime",
        "reposts": "repost|reposts",
        "replies": "réponse|réponses",
        "quotes": "citation|citations",
        "by": "par @{handle}",
        "methodology_title": "Méthodologie",
        "data_title": "Données",
        "data_intro": "Tables publiées à chaque date de calcul. CSV « Excel (FR) » : UTF-8 avec BOM, point-virgule, "
                      "virgule décimale, valeurs arrondies ; CSV « EN » : virgule et point décimal ; JSON : "
                      "tableau d'objets, valeurs complètes. Les colonnes sont celles des tables du lac de données.",
        "data_caption": "Téléchargements par date de calcul",
        "data_history": "Historique complet des scores",
        "table_scores": "Scores",
        "table_indicators": "Indicateurs",
        "table_topics": "Thématiques",
        "download": "{table} du {date} en {fmt}",
        "runs_title": "Exécutions du {date}",
        "runs_caption": "Étapes du calcul du {date}",
        "col_stage": "Étape",
        "col_status": "Statut",
        "col_started": "Début ({tz})",
        "col_finished": "Fin ({tz})",
        "col_brands": "Marques traitées",
        "archives_title": "Archives",
        "archives_intro": "Chaque classement publié garde une page permanente.",
        "archive_day_title": "Classement du {date}",
        "archive_caption": "Classement au {date}",
        "archive_downloads": "Données de cette date",
        "previous": "Date précédente",
        "next": "Date suivante",
        "see_latest": "Voir le classement le plus récent",
        "footer_about": "Baromètre du leadership d'opinion des marques sur les réseaux sociaux. "
                        "Site statique, sans traceur ni requête externe.",
        "no_data": "pas de données",
        "pending": "en préparation",
        "of_leadership": "de l'indice",
    },
    "en": {
        "skip": "Skip to content",
        "nav_label": "Main navigation",
        "nav_home": "Leaderboard",
        "nav_methodology": "Methodology",
        "nav_data": "Data",
        "nav_archives": "Archive",
        "lang_label": "Language",
        "switch_to": "Lire en français",
        "simulated": "Simulated data",
        "simulated_text": "this leaderboard is computed from a simulated world ({simulators}), "
                          "not from real data.",
        "updated": "Last updated {when}",
        "data_of": "Data as of {date}",
        "window": "Analysis window: {start} to {end}",
        "home_title": "Opinion leadership ranking",
        "home_intro": "Opinion leadership index (0 to 100) of {n} on {networks}, computed from eight "
                      "indicators grouped in three attributes.",
        "lb_caption": "Ranking as of {date}: rank, change, leadership index, attributes and rank band",
        "col_rank": "Rank",
        "col_change": "Change",
        "col_brand": "Brand",
        "col_leadership": "Leadership",
        "col_band": "Rank band",
        "band_help": "Rank band: ranks reached in 90% of the scoring variants "
                     "(sensitivity analysis, 5th–95th percentile).",
        "change_help": "Change: places gained (▲) or lost (▼) since the previous run.",
        "up": "up {n}",
        "down": "down {n}",
        "same": "no change",
        "new": "new",
        "sort_hint": "Select a column header to sort.",
        "brand_rank": "#{rank} of {n}",
        "brand_rank_1": "#1 of {n}",
        "key_figures": "Key figures",
        "rank": "Rank",
        "rank_band": "Rank band",
        "change": "Change",
        "history": "History",
        "history_title": "History of the leadership index and attributes of {name}",
        "history_desc": "From {start} to {end} ({n}). Latest values: {last}.",
        "history_table": "Chart data",
        "history_caption": "Scores of {name} by run date",
        "history_sampled": "{shown} of {n} dates; the full history is in the downloads.",
        "date": "Date",
        "indicators": "Indicators",
        "ind_caption": "Indicators of {name} as of {date}: value, normalised score (0–100) and contribution "
                       "to the index (points)",
        "col_indicator": "Indicator",
        "col_attribute": "Attribute",
        "col_value": "Value",
        "estimated_title": "estimated",
        "estimated_legend": "≈: value estimated from a sample of the mentions, read within the daily collection "
                            "budget; ±: its standard error (methodology).",
        "col_score": "Score",
        "col_contribution": "Contribution",
        "topics": "Topics",
        "topics_intro": "Share of the brand's posts and of the mentions by other accounts that deal with "
                        "each topic over the window.",
        "topics_caption": "Topics of {name}: share of posts and of mentions",
        "col_topic": "Topic",
        "col_family": "Family",
        "col_posts": "Posts",
        "col_mentions": "Mentions",
        "no_topics": "No topic detected over the window.",
        "posts": "Most engaging posts",
        "posts_intro": "Brand posts created in the window, by interactions (likes, reposts, replies, "
                       "quotes; latest observation).",
        "no_posts": "No post over the window.",
        "post_link": "View the post of {date} on {network}",
        "interactions": "interaction|interactions",
        "likes": "like|likes",
        "reposts": "repost|reposts",
        "replies": "reply|replies",
        "quotes": "quote|quotes",
        "by": "by @{handle}",
        "methodology_title": "Methodology",
        "data_title": "Data",
        "data_intro": "Tables published at each run date. CSV: UTF-8 with a byte-order mark, comma-separated, "
                      "decimal point, rounded values (the French files use semicolons and decimal commas); "
                      "JSON: array of objects, full values. Columns are those of the data lake tables.",
        "data_caption": "Downloads by run date",
        "data_history": "Full history of the scores",
        "table_scores": "Scores",
        "table_indicators": "Indicators",
        "table_topics": "Topics",
        "download": "{table} of {date} as {fmt}",
        "runs_title": "Runs of {date}",
        "runs_caption": "Stages of the run of {date}",
        "col_stage": "Stage",
        "col_status": "Status",
        "col_started": "Started ({tz})",
        "col_finished": "Finished ({tz})",
        "col_brands": "Brands processed",
        "archives_title": "Archive",
        "archives_intro": "Every published ranking keeps a permanent page.",
        "archive_day_title": "Ranking of {date}",
        "archive_caption": "Ranking as of {date}",
        "archive_downloads": "Data of this date",
        "previous": "Previous date",
        "next": "Next date",
        "see_latest": "See the latest ranking",
        "footer_about": "Barometer of the opinion leadership of brands on social networks. A static site, "
                        "with no tracker and no external request.",
        "no_data": "no data",
        "pending": "being prepared",
        "of_leadership": "of the index",
    },
}

STRINGS["fr"].update(EXTRA["fr"])
STRINGS["en"].update(EXTRA["en"])

# Methodology texts that depend on the panel's scoring settings.
METHOD: dict[str, dict[str, str]] = {
    "fr": {
        "intro": "L'indice de leadership d'opinion (0 à 100) mesure la place d'une marque dans la "
                 "conversation sur {networks} par rapport aux autres marques du panel. Il agrège huit "
                 "indicateurs, regroupés en trois attributs. Cette page est générée à partir des "
                 "définitions utilisées par le calcul : elle ne peut pas s'en écarter.",
        "window": "Fenêtre d'analyse : les {days} jours qui se terminent à la date de calcul (incluse).",
        "growth_yoy": "Croissance : comparée à la même fenêtre un an plus tôt.",
        "growth_previous": "Croissance : comparée à la fenêtre précédente de même durée.",
        "transform": "Transformation",
        "transform_log1p": "ln(1 + x)",
        "transform_identity": "aucune (x)",
        "weight": "Poids",
        "indicators_title": "Les huit indicateurs",
        "ind_caption": "Indicateurs de l'attribut « {attr} » : définition, transformation et poids",
        "definition": "Définition",
        "scoring_title": "Du score à l'indice",
        "norm_minmax": "Chaque indicateur transformé est ramené sur 0–100 par min–max entre les marques "
                       "du panel (toutes égales : 50).",
        "norm_zscore": "Chaque indicateur transformé est centré-réduit (z-score) entre les marques du "
                       "panel, puis ramené sur 0–100.",
        "norm_rank": "Chaque indicateur est converti en rang entre les marques du panel, ramené sur 0–100.",
        "norm_goalposts": "Chaque indicateur transformé est ramené sur 0–100 entre des bornes fixes "
                          "(goalposts) publiées ci-dessous.",
        "agg_arithmetic": "Un attribut est la moyenne pondérée des scores de ses indicateurs ; l'indice est "
                          "la moyenne pondérée des trois attributs.",
        "agg_geometric": "Un attribut est la moyenne géométrique pondérée des scores de ses indicateurs ; "
                         "l'indice est la moyenne géométrique pondérée des trois attributs.",
        "contribution": "La contribution d'un indicateur est le nombre de points de l'indice qu'il apporte.",
        "ranking": "Les marques sont classées par indice décroissant (à égalité : par identifiant).",
        "sensitivity": "Analyse de sensibilité : {draws} tirages de Monte-Carlo sur les choix de calcul "
                       "(normalisation, agrégation, poids) donnent à chaque marque une fourchette de rang "
                       "(5e–95e centile).",
        "attr_weights": "Poids des attributs",
        "attr_caption": "Attributs et leur poids dans l'indice",
        "goalposts_caption": "Bornes fixes par indicateur (sur la valeur transformée)",
        "low": "Borne basse",
        "high": "Borne haute",
        "gate_title": "Contrôle qualité",
        "gate": "La couverture d'une marque est la part de ses huit indicateurs pour lesquels des données "
                "existent. Un nouveau classement n'est publié que si la couverture moyenne des marques "
                "atteint {min} ; sinon le classement précédent reste en ligne.",
        "topics_title": "Thématiques",
        "topics": "Les publications et les mentions sont classées en thématiques par une taxonomie de "
                  "mots-clés (français d'abord, anglais), publiée avec le code.",
        "settings_caption": "Paramètres du calcul pour ce panel",
        "setting": "Paramètre",
        "value": "Valeur",
        "s_window": "Fenêtre (jours)",
        "s_growth": "Référence de croissance",
        "s_norm": "Normalisation",
        "s_agg": "Agrégation",
        "s_draws": "Tirages de sensibilité",
        "s_coverage": "Couverture minimale",
        "attribute": "Attribut",
    },
    "en": {
        "intro": "The opinion leadership index (0 to 100) measures a brand's place in the conversation on "
                 "{networks} relative to the other brands of the panel. It aggregates eight indicators, grouped in "
                 "three attributes. This page is generated from the definitions the scoring uses, so it "
                 "cannot drift from them.",
        "window": "Analysis window: the {days} days ending on the run date (inclusive).",
        "growth_yoy": "Growth: compared with the same window one year earlier.",
        "growth_previous": "Growth: compared with the previous window of the same length.",
        "transform": "Transform",
        "transform_log1p": "ln(1 + x)",
        "transform_identity": "none (x)",
        "weight": "Weight",
        "indicators_title": "The eight indicators",
        "ind_caption": "Indicators of the “{attr}” attribute: definition, transform and weight",
        "definition": "Definition",
        "scoring_title": "From scores to the index",
        "norm_minmax": "Each transformed indicator is scaled to 0–100 by min–max across the panel's brands "
                       "(all equal: 50).",
        "norm_zscore": "Each transformed indicator is standardised (z-score) across the panel's brands, "
                       "then scaled to 0–100.",
        "norm_rank": "Each indicator is turned into a rank across the panel's brands, scaled to 0–100.",
        "norm_goalposts": "Each transformed indicator is scaled to 0–100 between fixed bounds (goalposts), "
                          "listed below.",
        "agg_arithmetic": "An attribute is the weighted mean of its indicators' scores; the index is the "
                          "weighted mean of the three attributes.",
        "agg_geometric": "An attribute is the weighted geometric mean of its indicators' scores; the index "
                         "is the weighted geometric mean of the three attributes.",
        "contribution": "An indicator's contribution is the number of index points it brings.",
        "ranking": "Brands are ranked by decreasing index (ties: by id).",
        "sensitivity": "Sensitivity analysis: {draws} Monte Carlo draws over the scoring choices "
                       "(normalisation, aggregation, weights) give each brand a rank band "
                       "(5th–95th percentile).",
        "attr_weights": "Attribute weights",
        "attr_caption": "Attributes and their weight in the index",
        "goalposts_caption": "Fixed bounds per indicator (on the transformed value)",
        "low": "Low bound",
        "high": "High bound",
        "gate_title": "Quality gate",
        "gate": "A brand's coverage is the share of its eight indicators that have data. A new ranking is "
                "published only when the brands' mean coverage reaches {min}; otherwise the previous "
                "ranking stays online.",
        "topics_title": "Topics",
        "topics": "Posts and mentions are classified into topics by a keyword taxonomy (French first, "
                  "English), published with the code.",
        "settings_caption": "Scoring settings of this panel",
        "setting": "Setting",
        "value": "Value",
        "s_window": "Window (days)",
        "s_growth": "Growth reference",
        "s_norm": "Normalisation",
        "s_agg": "Aggregation",
        "s_draws": "Sensitivity draws",
        "s_coverage": "Minimum coverage",
        "attribute": "Attribute",
    },
}
