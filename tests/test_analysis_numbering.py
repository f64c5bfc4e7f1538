"""Computed facts and document numbering."""

from __future__ import annotations

from dlreport.document import numbering
from dlreport.facts import analysis


def test_facts_find_the_loss_minimum_the_plateau_and_the_gap():
    history = {
        "train_loss": [1.0, 0.8, 0.6, 0.5, 0.4],
        "val_loss": [1.0, 0.7, 0.65, 0.7, 0.8],
        "train_acc": [0.5, 0.7, 0.8, 0.85, 0.9],
        "val_acc": [0.5, 0.7, 0.796, 0.80, 0.79],
    }
    f = analysis.facts(history)
    assert f.best_val_loss_step == 3 and f.overfits
    assert f.plateau_step == 3  # 0.796 is within half a point of the best 0.80
    assert abs(f.final_gap - 0.11) < 1e-9


def test_facts_see_no_overfitting_when_validation_loss_keeps_falling():
    history = {"train_loss": [3, 2, 1], "val_loss": [3, 2, 1], "train_acc": [0.1, 0.2, 0.3], "val_acc": [0.1, 0.2, 0.3]}
    f = analysis.facts(history)
    assert not f.overfits and f.best_val_loss_step == 3


def test_numbering_sections_figures_tables_refs_and_toc():
    doc = (
        '<nav><!--toc--></nav><h2 id="c" class="unnumbered">Contents</h2>'
        '<h2 id="a">Alpha</h2><h3 id="a1">One</h3><figure id="f1"><img><figcaption>Curves</figcaption></figure>'
        '<h2 id="b">Beta</h2><table id="t1"><caption>Numbers</caption></table>'
        '<p>See <a class="ref" href="#f1"></a> and <a class="ref" href="#t1"></a> in <a class="ref" href="#a1"></a>.</p>'
    )
    out = numbering.number(doc)
    assert '<span class="secnum">1.1</span> One' in out and '<span class="secnum">2</span> Beta' in out
    assert "Figure 1.</span> Curves" in out and "Table 1.</span> Numbers" in out
    assert ">Figure 1</a>" in out and ">Table 1</a>" in out and ">Section 1.1</a>" in out
    assert out.index('href="#a"') < out.index('href="#a1"') < out.index('href="#b"')  # toc in order
    assert 'href="#c"' not in out.split("</nav>")[0]  # unnumbered headings stay out of the toc


def test_a_heading_is_numbered_and_cut_the_same_whatever_the_order_of_its_attributes():
    from dlreport.document import pdf_assembly

    def doc(h3: str) -> str:
        return ('<html><head></head><body><section>title</section><nav class="contents"><!--toc--></nav>\n'
                '<h2 id="a">Alpha</h2><p>one</p>\n' + h3 + '<p>two</p>\n'
                '<figure class="wide" id="f"><img><figcaption>Curves</figcaption></figure></body></html>')

    plain = doc('<h3 id="s" class="starts-page">Series</h3>')
    swapped = doc('<h3 class="starts-page" id="s">Series</h3>')
    for text in (plain, swapped):
        out = numbering.number(text)
        assert '<span class="secnum">1.1</span> Series' in out and "Figure 1.</span> Curves" in out
        assert '<a href="#s"><span class="secnum">1.1</span> Series</a>' in out
    cut = [[p.body.strip()[:20] for p in pdf_assembly.split(numbering.number(t))[1]] for t in (plain, swapped)]
    assert len(cut[0]) == len(cut[1]) == 3  # title and contents, the section, the series that starts a page
    assert cut[1][2].startswith('<h3 class="starts-p') and cut[0][2].startswith('<h3 id="s" class="s')
