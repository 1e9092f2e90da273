"""Each shipped topic taxonomy tags hand-written, real-looking posts of its sector as expected,
and holds to the shape every taxonomy must have (families, ≥ 20 topics, French and English)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from barometer.config import parse_panel
from barometer.errors import ConfigError
from barometer.topics import DEFAULT_TAXONOMY, SHIPPED, load_taxonomy, taxonomy_for

# (taxonomy, post, expected topics): posts as brands and people write them, French then English.
CASES = [
    ('corporate', "Résultats annuels 2024 : chiffre d'affaires en hausse de 6 % et dividende relevé 📈 #résultats",
     ['dividendes', 'resultats_financiers']),
    ('corporate', 'Nous recrutons 3 000 alternants cette année ! Rejoignez-nous 👉 #alternance',
     ['alternance', 'recrutement']),
    ('corporate', "Grève chez nous ? Les syndicats appellent à un débrayage jeudi après l'échec des NAO",
     ['dialogue_social']),
    ('corporate', "Notre trajectoire bas carbone validée par SBTi : -42 % d'émissions de CO2 d'ici 2030 🌍",
     ['climat']),
    ('corporate', 'Fuite de données : des informations personnelles de clients dérobées après une cyberattaque',
     ['cybersecurite']),
    ('corporate', 'Nomination : Marie Dupont est nommée directrice générale et rejoint le comité exécutif',
     ['direction_generale', 'nominations']),
    ('corporate', 'Plan social : 600 suppressions de postes annoncées, le site de Rouen fermera',
     ['restructuration']),
    ('corporate', 'Full-year results: revenue up 4%, net income of €1.2bn, share buyback confirmed',
     ['dividendes', 'resultats_financiers']),
    ('corporate', 'Our CEO on the new strategic plan and the road to net zero',
     ['climat', 'direction_generale', 'strategie']),
    ('corporate', 'Merci à toutes et à tous pour cette belle journée !',
     []),
    ('banking', "Les taux des crédits immobiliers repartent à la baisse : c'est le moment de renégocier ? 🏠",
     ['credit_immobilier']),
    ('banking', "Le taux du Livret A reste à 3 % jusqu'en février, annonce Bercy #LivretA",
     ['livret_a']),
    ('banking', "Encore des frais bancaires prélevés sans explication… 8 € de commission d'intervention "
                "pour un découvert de 2 €",
     ['frais_bancaires']),
    ('banking', "L'appli est encore en panne ce matin, impossible de faire un virement 😡",
     ['appli', 'paiements', 'pannes']),
    ('banking', "Attention aux faux conseillers : votre banque ne vous demandera jamais vos codes "
                "par téléphone #arnaque",
     ['fraude']),
    ('banking', "Fermeture de l'agence de mon village, plus de distributeur de billets à 20 km",
     ['agences']),
    ('banking', "Bâle IV : l'ACPR alerte sur les fonds propres des banques françaises",
     ['regulation']),
    ('banking', 'Mortgage rates fall again as the ECB cuts its base rate',
     ['credit_immobilier', 'taux']),
    ('banking', "Banking app down again, can't log in to online banking #outage",
     ['appli', 'pannes']),
    ('banking', 'Merci à toutes et à tous pour cette belle journée !',
     []),
    ('automotive', "Découvrez le nouveau SUV 100 % électrique : jusqu'à 520 km d'autonomie ⚡",
     ['gamme', 'recharge', 'voiture_electrique']),
    ('automotive', 'Bonus écologique : le leasing social revient en septembre pour les voitures électriques',
     ['prix_aides', 'voiture_electrique']),
    ('automotive', "Campagne de rappel : 300 000 véhicules concernés par un défaut d'airbag Takata",
     ['rappels']),
    ('automotive', 'Ma voiture est tombée en panne après 3 000 km, le concessionnaire ne répond plus',
     ['apres_vente']),
    ('automotive', "Chômage partiel à l'usine de Sochaux faute de semi-conducteurs",
     ['emploi', 'fournisseurs', 'usines']),
    ('automotive', 'La fin du thermique en 2035 remise en cause à Bruxelles ? #ZFE',
     ['motorisations', 'normes_emissions']),
    ('automotive', "Podium au Grand Prix de Monaco ! Bravo à toute l'équipe 🏁 #F1",
     ['sport_automobile']),
    ('automotive', 'New electric SUV revealed at the Paris motor show: 500 km of range, fast charging in 20 minutes',
     ['gamme', 'lancements_modeles', 'recharge']),
    ('automotive', 'Recall: 100,000 cars recalled over faulty airbags',
     ['rappels']),
    ('automotive', 'Merci à toutes et à tous pour cette belle journée !',
     []),
    ('retail', "Black Friday : jusqu'à -50 % sur l'électroménager dans tous nos magasins",
     ['non_alimentaire', 'promotions']),
    ('retail', "Le panier moyen a encore augmenté de 8 %, l'inflation pèse sur le pouvoir d'achat",
     ['prix_inflation']),
    ('retail', 'Rappel conso : des lots de fromage contaminés à la listeria retirés des rayons',
     ['rappels_conso']),
    ('retail', "Une seule caisse ouverte un samedi et 20 minutes de file d'attente… 😤",
     ['caisses']),
    ('retail', 'Nouveau drive piéton ouvert à Lyon : commandez en ligne, retirez en 5 minutes',
     ['drive']),
    ('retail', 'Anti-gaspi : nos invendus donnés aux banques alimentaires chaque soir',
     ['anti_gaspillage']),
    ('retail', 'Négociations commerciales : bras de fer entre industriels et distributeurs avant le 1er mars #EGalim',
     ['negociations']),
    ('retail', 'Our own-brand range now 20% cheaper, with more locally sourced produce',
     ['bio_local', 'marques_distributeur']),
    ('retail', 'Still waiting for my home delivery, order tracking says delivered 😡',
     ['livraison']),
    ('retail', 'Merci à toutes et à tous pour cette belle journée !',
     []),
    ('energy', "Tarifs réglementés de l'électricité : hausse de 10 % au 1er février, la facture s'alourdit",
     ['prix_electricite']),
    ('energy', 'Mise en service du parc éolien en mer de Saint-Nazaire : 80 éoliennes et 480 MW',
     ['investissements', 'renouvelables']),
    ('energy', "Flamanville : l'EPR a enfin été raccordé au réseau, l'ASN donne son feu vert",
     ['nucleaire']),
    ('energy', 'Coupure de courant dans tout le quartier depuis ce matin, Enedis injoignable',
     ['reseau']),
    ('energy', "Démarchage abusif : un faux conseiller m'a fait signer un nouveau contrat 😡",
     ['demarchage']),
    ('energy', 'Chèque énergie : 5,6 millions de ménages en précarité énergétique le recevront en avril',
     ['precarite']),
    ('energy', 'Superprofits : record de bénéfices et dividende en hausse, les ONG dénoncent',
     ['resultats']),
    ('energy', 'Our new heat pump offer helps households cut their energy bills',
     ['efficacite', 'prix_electricite']),
    ('energy', 'Power cut again in my street, smart meter says zero',
     ['reseau']),
    ('energy', 'Merci à toutes et à tous pour cette belle journée !',
     []),
    ('telecom', 'La fibre arrive dans votre commune : testez votre éligibilité au très haut débit 🚀',
     ['fibre']),
    ('telecom', "Panne géante : plus d'internet ni de réseau mobile depuis ce matin 😡",
     ['pannes', 'reseau_mobile']),
    ('telecom', 'Encore une hausse de prix de mon forfait sans prévenir, je vais demander ma résiliation',
     ['forfaits', 'hausses_de_prix', 'resiliation']),
    ('telecom', "Enchères de fréquences 5G : l'Arcep fixe le calendrier",
     ['regulation', 'reseau_mobile']),
    ('telecom', 'Service client injoignable, technicien jamais venu au rendez-vous…',
     ['service_client']),
    ('telecom', 'Attention aux SMS frauduleux qui imitent votre opérateur #arnaque',
     ['arnaques']),
    ('telecom', 'Ligue 1 : tous les matchs en streaming avec votre box internet',
     ['box', 'tv_sport']),
    ('telecom', 'Full fibre rollout reaches 10 million homes, 5G coverage now 90%',
     ['fibre', 'reseau_mobile']),
    ('telecom', 'Internet down for three days, still no answer from customer support',
     ['pannes', 'service_client']),
    ('telecom', 'Merci à toutes et à tous pour cette belle journée !',
     []),
    ('pharma', 'Octobre rose : le dépistage du cancer du sein sauve des vies 🎀',
     ['cancer', 'depistage', 'octobre_rose']),
    ('pharma', "L'ANSM annonce des tensions d'approvisionnement sur l'amoxicilline",
     ['ansm', 'penurie']),
    ('pharma', 'Essai clinique de phase III positif dans la polyarthrite',
     ['essais_cliniques']),
    ('pharma', 'Merci à toutes et à tous pour cette belle journée !',
     []),
]


@pytest.mark.parametrize(("taxonomy", "post", "expected"), CASES)
def test_tags_real_posts(taxonomy: str, post: str, expected: list[str]) -> None:
    assert load_taxonomy(taxonomy).tag(post) == expected


def _shout(text: str) -> str:
    """The same post without accents and in capitals (as some accounts write)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()


@pytest.mark.parametrize(("taxonomy", "post", "expected"), CASES)
def test_accent_and_case_tolerant(taxonomy: str, post: str, expected: list[str]) -> None:
    assert load_taxonomy(taxonomy).tag(_shout(post)) == expected


@pytest.mark.parametrize("taxonomy", SHIPPED)
def test_shape(taxonomy: str) -> None:
    tax = load_taxonomy(taxonomy)
    assert len(tax) >= 20, f"{taxonomy}: {len(tax)} topics"
    assert len(tax.families) >= 5
    assert tax.title_in("fr") and tax.title_in("en")
    for t in tax.topics.values():
        assert t.keywords_fr and (t.keywords_en or taxonomy == "pharma"), t.id
        assert t.name_fr and t.name_en, t.id
    for f in tax.families.values():
        assert f.name_fr and f.name_en and f.topics, f.id
    # Every taxonomy is tried by real posts above.
    assert sum(1 for c in CASES if c[0] == taxonomy and c[2]) >= 3


@pytest.mark.parametrize("taxonomy", [s for s in SHIPPED if s != "pharma"])
def test_no_pharma_topic_outside_pharma(taxonomy: str) -> None:
    pharma = load_taxonomy("pharma")
    tax = load_taxonomy(taxonomy)
    names = {t.name_fr.lower() for t in tax.topics.values()} | {t.name_en.lower() for t in tax.topics.values()}
    assert not names & ({t.name_fr.lower() for t in pharma.topics.values()} - {"scandales", "restructurations",
                                                                              "réglementation"})
    for word in ("santé", "patient", "médicament", "health", "pharma"):
        assert not any(word in n for n in names), (taxonomy, word)


def test_panel_picks_its_taxonomy(tmp_path: Path) -> None:
    brands = [{"id": "a", "name": "A", "accounts": [{"handle": "a"}], "mention_query": "a"}]
    assert taxonomy_for(parse_panel({"id": "p", "name": "P", "brands": brands})) is load_taxonomy(DEFAULT_TAXONOMY)
    banks = parse_panel({"id": "p", "name": "P", "topics": "banking", "brands": brands})
    assert "frais_bancaires" in taxonomy_for(banks).topics
    own = tmp_path / "own.yaml"
    own.write_text("families:\n  f:\n    name: {fr: F, en: F}\n    topics:\n      vin:\n"
                   "        name: {fr: Vin, en: Wine}\n        keywords: {fr: [vin], en: [wine]}\n", encoding="utf-8")
    panel_file = tmp_path / "p.yaml"
    panel_file.write_text("id: p\nname: P\ntopics: own.yaml\nbrands: [{id: a, name: A, accounts: [{handle: a}], "
                          "mention_query: a}]\n", encoding="utf-8")
    from barometer.config import load_panel

    p = load_panel(panel_file)  # relative to the panel file
    assert taxonomy_for(p).tag("Un bon vin") == ["vin"]


@pytest.mark.parametrize(("topics", "content", "message"), [
    ("nope", None, "unknown topic taxonomy 'nope'"),
    ("missing.yaml", None, "cannot read topic taxonomy"),
    ("bad.yaml", "families: [1, 2]", "families: expected a mapping"),
    ("bad.yaml", "families:\n  f:\n    topics:\n      t: {keywords: {fr: []}}\n", "no keywords"),
    ("bad.yaml", "families:\n  f:\n    topics:\n      t: {keywords: {de: [x]}}\n", "unknown language 'de'"),
    ("bad.yaml", "families:\n  f:\n    topics:\n      t: {keywords: [x]}\n", "expected lists of keywords"),
    ("bad.yaml", "families: {f: {topics: {t: {keywords: {fr: [x]}}}}\n  oops: [", "not valid YAML"),
])
def test_bad_taxonomy_is_one_line(tmp_path: Path, topics: str, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / topics).write_text(content, encoding="utf-8")
    panel_file = tmp_path / "p.yaml"
    panel_file.write_text(f"id: p\nname: P\ntopics: {topics}\nbrands: [{{id: a, name: A, accounts: [{{handle: a}}], "
                          "mention_query: a}]\n", encoding="utf-8")
    from barometer.config import load_panel

    with pytest.raises(ConfigError) as e:
        load_panel(panel_file)
    msg = str(e.value)
    assert message in msg and "\n" not in msg and msg.startswith(str(panel_file)), msg

