"""The methodology, generated from the definitions and constants the scorer itself uses.

`methodology_sections(lang, scoring)` gives structured sections (for the site builder to lay
out); `methodology_markdown(lang, scoring)` renders them; `python -m barometer.score.methodology
docs/methodology.md` writes the committed document (French, then English). A test checks the
committed file equals the generated one, so the page cannot drift from the code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from barometer.config import Scoring
from barometer.definitions import ATTRIBUTES, INDICATORS, indicators_of
from barometer.score import indicators as ind_mod
from barometer.score import pagerank
from barometer.score import scoring as sc
from barometer.score import sensitivity as sens
from barometer.score.methodology_sampling import measurement_table, sampling_paragraphs
from barometer.topics import Taxonomy, default_taxonomy


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    paragraphs: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()  # first row = header


def _t(lang: str, fr: str, en: str) -> str:
    return fr if lang == "fr" else en


def methodology_sections(lang: str = "fr", scoring: Scoring | None = None,
                         taxonomy: Taxonomy | None = None) -> list[Section]:
    s = scoring or Scoring()
    tax = taxonomy or default_taxonomy()
    ind_rows = _indicator_rows(lang, s)
    ref = _reference(lang, s)
    sections = [
        Section("window", _t(lang, "Fenêtre et données", "Window and data"), (
            _t(lang,
               f"Chaque calcul porte sur une fenêtre de {s.window_days} jours se terminant à la date du "
               f"calcul, incluse (heures UTC). La croissance se mesure par rapport à {ref} : les abonnés "
               f"de référence sont ceux du dernier relevé au plus {ind_mod.REFERENCE_TOLERANCE_DAYS} jours "
               "avant la fin de la référence.",
               f"Each computation covers a {s.window_days}-day window ending on the run date, inclusive "
               f"(UTC). Growth is measured against {ref}: the reference followers are those of the latest "
               f"snapshot at most {ind_mod.REFERENCE_TOLERANCE_DAYS} days before the end of the reference."),
            _t(lang,
               "Une publication est observée plusieurs fois : seule sa dernière observation jusqu'à la date "
               "du calcul compte, et une publication supprimée à cette observation est exclue. Les reposts "
               "ne comptent ni dans le volume ni dans les interactions (leurs métriques sont celles de "
               "l'original). Les mentions par les comptes de la marque elle-même sont exclues.",
               "A post is observed several times: only its latest observation up to the run date counts, "
               "and a post found deleted in that observation is excluded. Reposts count neither in the "
               "volume nor in the interactions (their metrics are the original's). Mentions by the brand's "
               "own accounts are excluded."),
        )),
        Section("indicators", _t(lang, "Les huit indicateurs", "The eight indicators"), (
            _t(lang,
               f"La centralité est le PageRank (amortissement {pagerank.DAMPING}, arêtes pondérées par leur "
               "nombre, masse des nœuds sans lien sortant répartie uniformément, convergence à "
               f"{pagerank.PAGERANK_TOL:g}) de la marque (somme de ses comptes) dans le graphe auteur → "
               "compte mentionné des mentions et des publications des marques de la fenêtre.",
               f"Centrality is the PageRank (damping {pagerank.DAMPING}, edges weighted by their count, "
               "dangling mass spread uniformly, converged to "
               f"{pagerank.PAGERANK_TOL:g}) of the brand (sum of its accounts) in the author → mentioned "
               "account graph of the window's mentions and brand posts."),
        ), tuple(ind_rows)),
        Section("missing", _t(lang, "Données manquantes", "Missing data"), (
            _t(lang,
               "Une marque sans donnée pour un indicateur n'a pas de valeur (jamais un zéro implicite) : "
               "elle est exclue des bornes de cet indicateur, ses poids sont répartis sur les indicateurs "
               "disponibles de l'attribut, et sa couverture (part des huit indicateurs disponibles) passe "
               f"sous 1. Le seuil de couverture du panel est {s.min_coverage:.0%}. Zéro publication est une "
               "donnée (volume 0) ; le taux d'engagement est alors indéfini.",
               "A brand without data for an indicator has no value (never an implicit zero): it is left "
               "out of that indicator's bounds, its weights are spread over the attribute's available "
               "indicators, and its coverage (share of the eight indicators available) drops below 1. "
               f"The panel's coverage threshold is {s.min_coverage:.0%}. Zero posts is data (volume 0); "
               "the engagement rate is then undefined."),
        )),
        Section("scoring", _t(lang, "Normalisation et agrégation", "Normalisation and aggregation"), (
            _t(lang,
               f"Normalisation retenue : `{s.normalisation}`. `minmax` : (x − min)/(max − min) × 100 sur la "
               "valeur transformée, 50 si toutes les marques sont égales ; `zscore` : z borné à "
               f"[−{sc.ZSCORE_CLIP:g}, {sc.ZSCORE_CLIP:g}] ramené linéairement sur 0–100 ; `rank` : rang "
               "moyen ramené sur 0–100 ; `goalposts` : bornes fixes par indicateur (comparables d'une date "
               "à l'autre), écrêtées à 0–100.",
               f"Normalisation in use: `{s.normalisation}`. `minmax`: (x − min)/(max − min) × 100 on the "
               "transformed value, 50 when all brands are equal; `zscore`: z clipped to "
               f"[−{sc.ZSCORE_CLIP:g}, {sc.ZSCORE_CLIP:g}] mapped linearly to 0–100; `rank`: average rank "
               "mapped to 0–100; `goalposts`: fixed bounds per indicator (comparable across dates), "
               "clipped to 0–100."),
            _t(lang,
               f"Agrégation retenue : `{s.aggregation}`. Attribut = moyenne pondérée des scores de ses "
               "indicateurs ; leadership = moyenne pondérée des trois attributs. En agrégation "
               f"`geometric`, les scores sont planchers à {sc.GEOMETRIC_FLOOR:g} point pour qu'un zéro "
               "n'annule pas tout l'indice.",
               f"Aggregation in use: `{s.aggregation}`. Attribute = weighted mean of its indicators' "
               "scores; leadership = weighted mean of the three attributes. With `geometric` aggregation "
               f"scores are floored at {sc.GEOMETRIC_FLOOR:g} point so that one zero does not cancel the "
               "whole index."),
            _t(lang,
               "La contribution d'un indicateur est le nombre de points du leadership qu'il apporte "
               "(poids effectif × score ; en géométrique, part de son logarithme) : les contributions "
               "s'additionnent exactement au score. Classement par leadership décroissant, égalités "
               "départagées par l'identifiant de la marque.",
               "An indicator's contribution is the number of leadership points it brings (effective "
               "weight × score; in geometric mode, its share of the log-score): contributions add up "
               "exactly to the score. Ranking by leadership, descending, ties broken by brand id."),
        )),
        Section("sensitivity", _t(lang, "Analyse de sensibilité", "Sensitivity analysis"), (
            _t(lang,
               f"{s.sensitivity_draws} tirages Monte Carlo (graine {s.seed}) : normalisation parmi "
               f"{', '.join(sc.SENSITIVITY_NORMALISATIONS)}, agrégation parmi {', '.join(sc.AGGREGATIONS)}, "
               f"chaque poids multiplié par U({1 - sens.WEIGHT_SPREAD:g}, {1 + sens.WEIGHT_SPREAD:g}). "
               f"La bande de rang va du {sens.LOW_PERCENTILE:g}e au {sens.HIGH_PERCENTILE:g}e percentile "
               "des rangs obtenus (percentiles pris sur des rangs entiers, sans interpolation), élargie si "
               "besoin pour contenir le rang publié. Même graine, même résultat.",
               f"{s.sensitivity_draws} Monte Carlo draws (seed {s.seed}): normalisation among "
               f"{', '.join(sc.SENSITIVITY_NORMALISATIONS)}, aggregation among {', '.join(sc.AGGREGATIONS)}, "
               f"every weight multiplied by U({1 - sens.WEIGHT_SPREAD:g}, {1 + sens.WEIGHT_SPREAD:g}). "
               f"The rank band spans the {sens.LOW_PERCENTILE:g}th to {sens.HIGH_PERCENTILE:g}th "
               "percentiles of the ranks obtained (taken on integer ranks, no interpolation), widened if "
               "need be to contain the published rank. Same seed, same result."),
        )),
    ]
    sections.append(_sampling_section(lang))
    sections.append(_networks_section(lang))
    sections.append(_topics_section(lang, tax))
    return sections


def _reference(lang: str, s: Scoring) -> str:
    return _t(lang, "la même fenêtre un an plus tôt (même jour calendaire)",
              "the same window one year earlier (same calendar day)") if s.growth_reference == "yoy" \
        else _t(lang, "la fenêtre précédente", "the previous window")


def _sampling_section(lang: str) -> Section:
    return Section("sampling", _t(lang, "Collecte sous budget et estimations", "Budgeted collection and estimates"),
                   sampling_paragraphs(lang), measurement_table(lang))


def _indicator_rows(lang: str, s: Scoring) -> list[tuple[str, ...]]:
    """The indicators table: attribute, indicator, definition, transform, weight."""
    fr = lang == "fr"
    tr = {"log1p": "ln(1 + x)", "identity": "x"}
    wi, wa = sc.base_weights(s)
    rows: list[tuple[str, ...]] = [(
        _t(lang, "attribut", "attribute"), _t(lang, "indicateur", "indicator"),
        _t(lang, "définition", "definition"), _t(lang, "transformation", "transform"),
        _t(lang, "poids", "weight"))]
    for a, w_a in zip(ATTRIBUTES, wa, strict=True):
        for i in indicators_of(a.id):
            w_i = wi[[x.id for x in INDICATORS].index(i.id)]
            rows.append((a.name_fr if fr else a.name_en, f"{i.name_fr if fr else i.name_en} (`{i.id}`)",
                         i.definition_fr if fr else i.definition_en, tr[i.transform],
                         f"{w_i:g} × {w_a:g}"))
    return rows


def _networks_section(lang: str) -> Section:
    return Section("networks", _t(lang, "Réseaux", "Networks"), (
        _t(lang,
           "L'indice est calculé par réseau (X, Bluesky) et combiné (« tous »). Combiné : communauté, "
           "volume de contenu, mentions, interactions et portée des mentions sont additionnés sur les "
           "réseaux (les identités diffèrent d'un réseau à l'autre : un auteur sur X et un sur Bluesky "
           "sont deux auteurs) ; la croissance et le taux d'engagement sont calculés sur ces sommes ; la "
           "centralité est le PageRank sur l'union des graphes des réseaux (sur Bluesky, la cible d'une "
           "mention est le compte désigné par la facette de mention, son DID). Une marque sans compte sur "
           "un réseau n'a pas de ligne sur ce réseau : donnée manquante, jamais zéro. Mastodon n'est pas "
           "mesuré : sans recherche à l'échelle du réseau, seul le compte de la marque le serait.",
           "The index is computed per network (X, Bluesky) and combined (\"all\"). Combined: community, "
           "content volume, mentions, interactions and mention reach are summed over networks (identities "
           "differ across networks: an author on X and one on Bluesky are two authors); growth and "
           "engagement rate are computed on those sums; centrality is PageRank on the union of the "
           "networks' graphs (on Bluesky a mention's target is the account its mention facet names, by "
           "DID). A brand without an account on a network has no row there: missing data, never a zero. "
           "Mastodon is not measured: without network-wide search only the brand's own account could be."),
    ))


def _topics_section(lang: str, tax: Taxonomy) -> Section:
    topic_rows: list[tuple[str, ...]] = [(_t(lang, "famille", "family"), _t(lang, "thèmes", "topics"))]
    for f in tax.families.values():
        topic_rows.append((f.name(lang), ", ".join(tax.name(t, lang) for t in f.topics)))
    return Section("topics", _t(lang, "Thèmes", "Topics"), (
        _t(lang,
           "Les publications et les mentions sont étiquetées par une taxonomie de mots-clés en français "
           "et en anglais (fichier de données modifiable), insensible aux accents, à la casse et au "
           "pluriel, multi-étiquette. La part d'un thème = publications étiquetées / publications de "
           "la source dans la fenêtre ; les parts peuvent dépasser 100 % au total.",
           "Posts and mentions are tagged by a French and English keyword taxonomy (an editable data "
           "file), insensitive to accents, case and plurals, multi-label. A topic's share = tagged "
           "posts / posts of that source in the window; shares may add up to more than 100 %."),
    ), tuple(topic_rows))


def _md_table(rows: tuple[tuple[str, ...], ...]) -> list[str]:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")
    out = ["| " + " | ".join(esc(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows[1:]]
    return out


def methodology_markdown(lang: str = "fr", scoring: Scoring | None = None, level: int = 2) -> str:
    """The methodology as Markdown, sections at heading `level`."""
    lines: list[str] = []
    for sec in methodology_sections(lang, scoring):
        lines += ["#" * level + " " + sec.title, ""]
        for p in sec.paragraphs:
            lines += [p, ""]
        if sec.table:
            lines += [*_md_table(sec.table), ""]
    return "\n".join(lines).rstrip() + "\n"


def document(scoring: Scoring | None = None) -> str:
    """docs/methodology.md: French, then English, with the default scoring options."""
    return (
        "<!-- Generated by `python -m barometer.score.methodology docs/methodology.md`: do not edit. -->\n\n"
        "# Méthodologie\n\n" + methodology_markdown("fr", scoring, level=2)
        + "\n# Methodology\n\n" + methodology_markdown("en", scoring, level=2)
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = document()
    if not args or args[0] == "-":
        sys.stdout.write(text)
    else:
        Path(args[0]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
