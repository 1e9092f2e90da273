"""The methodology's section on budgeted collection (issue 13), from the code's own definitions.

The slices, floor and refresh ages are `barometer.config`'s (the collector plans with them),
the reach estimator is `estimate.REACH` (its formula from its docstring) and the measurement
that chose it is the table recorded in `score/estimate.py`'s docstring, quoted as it stands.
"""

from __future__ import annotations

import re

from barometer.config import SAMPLE_FLOOR, SAMPLE_SLICE_MINUTES, THIN_REFRESH_AGES, THIN_REFRESH_SHARE
from barometer.score import estimate, sampled


def _t(lang: str, fr: str, en: str) -> str:
    return fr if lang == "fr" else en


def measurement_table(lang: str) -> tuple[tuple[str, ...], ...]:
    """The simulated-world measurement of the reach estimators (estimate.py's docstring)."""
    doc = estimate.__doc__ or ""
    block = doc.split("(bench/reach_estimators.py)", 1)[-1]
    rows = [tuple(re.split(r"\s{2,}", line.strip())) for line in block.splitlines()
            if line.startswith("    ") and line.strip()]
    rows = [r for r in rows if r[0] == "budget" or r[0].startswith("$")]
    if not rows:
        return ()
    head = rows[0]
    if lang == "fr":
        head = ("budget", "p médian (étendue)", "vus", *head[3:])
    return (head, *rows[1:])


def _formula() -> str:
    doc = (estimate.REACH.__doc__ or "").strip()
    return doc.split(":", 1)[-1].strip().rstrip(".") if ":" in doc else doc


def sampling_paragraphs(lang: str) -> tuple[str, ...]:
    ages = ", ".join(str(a) for a in THIN_REFRESH_AGES)
    share = f"{THIN_REFRESH_SHARE:.0%}"
    reps = sampled.REPLICATES
    return (
        _t(lang,
           "Sans budget (`collection.daily_budget_usd` absent), tout est lu. Avec un budget, chaque collecte "
           "quotidienne planifie avant de lire : d'abord les lectures fixes (profils des comptes, nouvelles "
           "publications des marques, rafraîchissement des publications récentes, ramené aux publications "
           f"âgées de {ages} jours quand tout rafraîchir prendrait plus de {share} du budget), puis le volume "
           "exact de mentions de chaque marque (décomptes `tweets/counts/recent`), puis les mentions : toutes "
           "si elles tiennent dans ce qui reste, sinon un échantillon par marque. Une collecte s'arrête avant "
           "qu'une page puisse dépasser le budget.",
           "Without a budget (`collection.daily_budget_usd` absent), everything is read. With one, each daily "
           "collection plans before it reads: first the fixed reads (the accounts' profiles, the brands' new "
           "posts, the refresh of their young posts, thinned to posts "
           f"{ages} days old when refreshing all of them would take more than {share} of the budget), then "
           "every brand's exact mention volume (`tweets/counts/recent` counts), then the mentions: all of them "
           "if they fit what is left, otherwise a sample per brand. A run stops before a page could pass "
           "the budget."),
        _t(lang,
           "Les mentions que le reste permet de lire sont réparties entre marques proportionnellement à leur "
           f"volume, avec un plancher de {SAMPLE_FLOOR} par marque (ou tout son volume s'il est plus petit), "
           "par remplissage successif ; quand même les planchers ne tiennent pas, strictement selon le volume, "
           "pour que toutes les marques soient lues au même taux. Chaque jour est découpé en tranches de {SAMPLE_SLICE_MINUTES} minutes "
           "(UTC) ; m tranches tirées au hasard sans remise sont lues en entier. Chaque mention de la marque "
           "ce jour-là est ainsi dans l'échantillon avec la même probabilité connue p = m / tranches, et sa "
           "ligne porte `sample_weight` = 1/p (1 quand tout a été lu).",
           "The mentions that what is left can buy are allocated across brands proportionally to their "
           f"volume, with a floor of {SAMPLE_FLOOR} per brand (or its whole volume when smaller), by "
           "water-filling; when not even the floors fit, strictly by volume, so that every brand is read at "
           f"the same rate. Each day is cut into {SAMPLE_SLICE_MINUTES}-minute slices (UTC); m of them, drawn "
           "at random without replacement, are read in full. Every mention of the brand that day is thus in "
           "the sample with the same known probability p = m / slices, and its row carries `sample_weight` = "
           "1/p (1 when everything was read)."),
        _t(lang,
           "`mentions` reste exact : lignes des jours lus en entier, plus le décompte de X des jours "
           "échantillonnés. `mention_reach` (auteurs distincts) est estimée par l'estimateur de Chao et Lin "
           f"(2012) à taux d'échantillonnage connu q : {_formula()} (d : auteurs vus ; f1, f2 : auteurs vus "
           "une et deux fois dans les lignes échantillonnées ; q : taux effectif de la marque). Il a été choisi "
           "en mesurant sur le monde simulé, où la vérité est connue : la fenêtre de démonstration rejouée jour "
           "par jour sous le plan du collecteur, erreur relative (biais / RMSE) de la portée de chaque marque "
           "(tableau). Chao-Lin a la plus faible erreur quadratique à partir de $0.50 et sur l'ensemble ; "
           "Chao1 surestime fortement dès que l'essentiel d'une journée est lu (les tranches gardent ensemble "
           "les rafales d'un auteur). Son erreur restante figure dans l'erreur type et les bandes publiées.",
           "`mentions` stays exact: rows of days read in full, plus X's count of the sampled days. "
           "`mention_reach` (distinct authors) is estimated by Chao and Lin's (2012) estimator for a known "
           f"sampling rate q: {_formula()} (d: authors seen; f1, f2: authors seen once and twice in sampled "
           "rows; q: the brand's effective rate). It was chosen by measuring on the simulated world, where the "
           "truth is known: the demo window replayed day by day under the collector's plan, relative error "
           "(bias / RMSE) of each brand's reach (table). Chao-Lin has the lowest RMSE from $0.50 up and over "
           "all budgets; Chao1 over-counts badly once most of a day is read (slices keep an author's bursts "
           "together). Its remaining error is in the published standard error and bands."),
        _t(lang,
           "La centralité est calculée sur le graphe échantillonné, chaque arête issue d'une mention pesant "
           "1/p ; les thèmes des mentions sont eux aussi pondérés par 1/p. L'erreur type (`std_error`) de la "
           f"portée et de la centralité est l'écart type sur {reps} rééchantillonnages bootstrap : les tranches "
           "non vides de chaque marque-jour échantillonné, retirées avec remise. Une valeur estimée est "
           "marquée `estimated` dans les données et « ≈ » sur le site. L'analyse de sensibilité rejoue aussi "
           f"l'échantillonnage : son tirage j utilise le rééchantillonnage j mod {reps}, si bien que les "
           "bandes de rang incluent l'erreur d'échantillonnage. Quand tout a été lu, rien ne change.",
           "Centrality is computed on the sampled graph, each edge from a mention weighing 1/p; mention topics "
           "are weighted by 1/p too. The standard error (`std_error`) of reach and centrality is the standard "
           f"deviation over {reps} bootstrap redraws: each sampled brand-day's non-empty slices drawn again "
           "with replacement. An estimated value is flagged `estimated` in the data and \"≈\" on the site. The "
           f"sensitivity analysis redraws the sample too: its draw j uses bootstrap redraw j mod {reps}, so "
           "rank bands include the sampling error. When everything was read, nothing changes."),
    )
