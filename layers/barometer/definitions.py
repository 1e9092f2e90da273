"""The index definitions: one source for the scorer, the methodology page and the docs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Transform = Literal["log1p", "identity"]


@dataclass(frozen=True)
class Attribute:
    id: str
    name_fr: str
    name_en: str


@dataclass(frozen=True)
class Indicator:
    id: str
    attribute: str
    transform: Transform
    name_fr: str
    name_en: str
    definition_fr: str
    definition_en: str


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("relational", "Pouvoir relationnel", "Relational power"),
    Attribute("expression", "Pouvoir d'expression", "Expression power"),
    Attribute("engagement", "Pouvoir d'engagement", "Engagement power"),
)

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "community", "relational", "log1p", "Taille de la communauté", "Community size",
        "Abonnés à la fin de la fenêtre, additionnés sur les comptes de la marque.",
        "Followers at the end of the window, summed over the brand's accounts.",
    ),
    Indicator(
        "community_growth", "relational", "log1p", "Croissance de la communauté", "Community growth",
        "Abonnés en fin de fenêtre / abonnés en fin de période de référence − 1.",
        "Followers at the end of the window / followers at the end of the reference − 1.",
    ),
    Indicator(
        "centrality", "relational", "identity", "Centralité", "Centrality",
        "PageRank de la marque dans le graphe des interactions de la fenêtre "
        "(auteur → compte mentionné, depuis les mentions et les publications des marques).",
        "PageRank of the brand in the window's interaction graph "
        "(author → mentioned account, from mentions and brand posts).",
    ),
    Indicator(
        "content_volume", "expression", "log1p", "Volume de contenus", "Content volume",
        "Publications de la marque créées dans la fenêtre (hors reposts).",
        "Brand posts created in the window (reposts excluded).",
    ),
    Indicator(
        "mentions", "expression", "log1p", "Mentions", "Mentions",
        "Publications d'autres comptes mentionnant la marque dans la fenêtre.",
        "Posts by others mentioning the brand in the window.",
    ),
    Indicator(
        "mention_reach", "expression", "log1p", "Portée des mentions", "Mention reach",
        "Auteurs distincts ayant mentionné la marque dans la fenêtre.",
        "Distinct authors who mentioned the brand in the window.",
    ),
    Indicator(
        "interactions", "engagement", "log1p", "Interactions", "Interactions",
        "J'aime + reposts + réponses + citations sur les publications de la marque créées dans "
        "la fenêtre (dernière observation).",
        "Likes + reposts + replies + quotes on brand posts created in the window (latest observation).",
    ),
    Indicator(
        "engagement_rate", "engagement", "identity", "Taux d'engagement", "Engagement rate",
        "Interactions / (publications × abonnés moyens sur la fenêtre) × 100.",
        "Interactions / (posts × mean followers over the window) × 100.",
    ),
)

INDICATOR_IDS = tuple(i.id for i in INDICATORS)
ATTRIBUTE_IDS = tuple(a.id for a in ATTRIBUTES)


def indicator(ind_id: str) -> Indicator:
    for i in INDICATORS:
        if i.id == ind_id:
            return i
    raise KeyError(ind_id)


def indicators_of(attribute: str) -> tuple[Indicator, ...]:
    return tuple(i for i in INDICATORS if i.attribute == attribute)
