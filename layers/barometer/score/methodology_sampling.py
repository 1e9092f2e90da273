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
    rows = [r for r in rows if r[0] == "q" or r[0][:1].isdigit()]
    if not rows:
        return ()
    head = rows[0]
    if lang == "fr":
        head = ("q", "n", "vus", *head[3:])
    return (head, *rows[1:])


def _formula() -> str:
    """The estimator's formula: its docstring's first paragraph, after the name."""
    doc = (estimate.REACH.__doc__ or "").strip().split("\n\n", 1)[0]
    formula = (doc.split(":", 1)[-1] if ":" in doc else doc).split("; ", 1)[0]  # the glossary is per language
    return " ".join(formula.split()).rstrip(".")


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
           "pour que toutes les marques soient lues au même taux. Chaque jour est découpé en tranches de "
           f"{SAMPLE_SLICE_MINUTES} minutes "
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
           "échantillonnés. `mention_reach` (auteurs distincts sur la fenêtre) demande de savoir si un auteur lu "
           "aujourd'hui avait déjà mentionné la marque plus tôt dans la fenêtre. Les décomptes de X le disent, "
           "gratuitement : pour la première mention échantillonnée de chaque auteur et jour, le décompte "
           "`tweets/counts/all` de la requête de la marque restreinte à cet auteur (`from:`), jour par jour, "
           "depuis le jour qui ouvre la plus ancienne fenêtre contenant ce jour (`author_prev_day`, "
           "`author_lookback_from`). Une mention "
           "échantillonnée est la première de son auteur dans la fenêtre quand il n'en a aucune plus tôt "
           "depuis le début de la fenêtre. La portée est alors estimée sans biais (Horvitz-Thompson) : les "
           "auteurs des jours lus en entier, plus 1/p pour chaque première mention échantillonnée d'un autre "
           "auteur, puisque chaque auteur a exactement une première mention dans la fenêtre, échantillonnée "
           "avec la probabilité p de sa tranche. Son erreur type est la plus grande de deux estimations du plan "
           "de sondage : par ligne, Σ (1 − p)/p², et par tranche, Σ M² (1 − p)/m · s² (s² : variance du "
           "nombre de premières mentions par tranche tirée).",
           "`mentions` stays exact: rows of days read in full, plus X's count of the sampled days. "
           "`mention_reach` (distinct authors over the window) needs to know whether an author read today "
           "had already mentioned the brand earlier in the window. X's counts tell, for free: for the first"
           " sampled mention of each author and day, the `tweets/counts/all` count of the brand's query "
           "restricted to that author (`from:`), day by day, back to the first day of the earliest window "
           "holding that day (`author_prev_day`, `author_lookback_from`). A sampled mention is its author's"
           " first in the window when they have none earlier since the window's start. The reach is then "
           "estimated without bias (Horvitz-Thompson): the authors of the days read in full, plus 1/p for "
           "each sampled first mention of another author, since every author has exactly one first mention "
           "in the window, in the sample with its slice's probability p. Its standard error is the larger "
           "of two design-based estimates: by row, Σ (1 − p)/p², and by slice, Σ M² (1 − p)/m · s² (s²: the"
           " variance of the first mentions per drawn slice)."),
        _t(lang,
           "Quand ces décomptes n'ont pas pu être faits pour une marque (la fenêtre de 15 minutes de X épuisée, "
           "pas d'accès à l'archive complète, décomptes payants), sa portée est estimée à partir de "
           "l'échantillon seul, par l'estimateur de Good-Toulmin "
           f"lissé (Orlitsky, Suresh et Wu, 2016) : {_formula()} (d : auteurs vus ; Φ_i : auteurs vus i fois "
           "dans les lignes échantillonnées ; n : lignes échantillonnées ; q : taux effectif de la marque sur la "
           "fenêtre). Il a été choisi en mesurant sur le monde simulé, où la vérité est connue : la fenêtre de "
           "démonstration rejouée jour par jour sous le plan du collecteur, à des budgets de $0.25 à $3, "
           "erreur relative (biais / RMSE) de la portée de chaque marque selon q (tableau). Sous "
           f"q = {estimate.REACH_MIN_Q}, tous les estimateurs se trompent d'un tiers ou plus : la portée n'est "
           "alors pas publiée (donnée manquante, jamais une supposition). Au-dessus, l'erreur propre de "
           "l'estimateur mesurée à ce q (RMSE) s'ajoute à celle de l'échantillon dans l'erreur type et dans "
           "chaque tirage de l'analyse de sensibilité.",
           "When those counts could not be made for a brand (X's 15-minute window spent, no full-archive "
           "access, counts not free), its reach is estimated from the sample alone, by the smoothed "
           "Good-Toulmin estimator (Orlitsky, "
           f"Suresh and Wu, 2016): {_formula()} (d: authors seen; Φ_i: authors seen i times in sampled rows; n: "
           "sampled rows; q: the brand's effective rate over the window). It was chosen "
           "by measuring on the simulated world, where the truth is known: the demo window replayed day by day "
           "under the collector's plan, at budgets from $0.25 to $3, relative error (bias / RMSE) of each "
           f"brand's reach by q (table). Below q = {estimate.REACH_MIN_Q} every estimator errs by a third or "
           "more: the reach is then not published (missing data, never a guess). Above it, the estimator's "
           "own error measured at that q (RMSE) is added to the sample's in the standard error and in every "
           "draw of the sensitivity analysis."),
        _t(lang,
           "La centralité est calculée sur le graphe échantillonné, chaque arête issue d'une mention pesant "
           "1/p ; les thèmes des mentions sont eux aussi pondérés par 1/p. L'erreur type (`std_error`) de la "
           "centralité (et d'une portée estimée sur l'échantillon seul) est l'écart type sur "
           f"{reps} rééchantillonnages bootstrap : les tranches "
           "non vides de chaque marque-jour échantillonné, retirées avec remise. Une valeur estimée est "
           "marquée `estimated` dans les données et « ≈ » sur le site. L'analyse de sensibilité rejoue aussi "
           f"l'échantillonnage : son tirage j utilise le rééchantillonnage j mod {reps}, si bien que les "
           "bandes de rang incluent l'erreur d'échantillonnage. Quand tout a été lu, rien ne change.",
           "Centrality is computed on the sampled graph, each edge from a mention weighing 1/p; mention topics "
           "are weighted by 1/p too. The standard error (`std_error`) of centrality (and of a reach estimated "
           "from the sample alone) is the standard deviation over "
           f"{reps} bootstrap redraws: each sampled brand-day's non-empty slices drawn again "
           "with replacement. An estimated value is flagged `estimated` in the data and \"≈\" on the site. The "
           f"sensitivity analysis redraws the sample too: its draw j uses bootstrap redraw j mod {reps}, so "
           "rank bands include the sampling error. When everything was read, nothing changes."),
    )
