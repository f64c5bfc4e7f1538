"""The tagged PDF's structure tree, joined from the trees of the pieces `pdf_assembly` lays out.

WeasyPrint tags each piece: a Document element holding headings, paragraphs, lists,
tables, figures with their alternative text and links, each pointing at its marked
content on the pages; and a parent tree, which maps each page's marked content and each
link annotation back to its element. Each piece numbers its parent-tree entries from 0, so
the join puts every piece's elements, in order, under one Document element and shifts the
entries (and the pages' and links' references to them) past those of the pieces before it.
The elements' page references need nothing: pikepdf copies each object of a piece once,
so they land on the joined pages.

What depends on one piece alone is done once, when it is laid out (`tidy`, in the worker
that lays it out, and kept with the piece): its empty stand-in spans dropped, and its
parent-tree entries outside the reading order listed. The join then copies.
"""

from __future__ import annotations

OUTSIDE = "DLReportOutsideReadingOrder"  # in a tidied piece's information: "key:index" of each element to re-root


def tidy(data: bytes) -> bytes:
    """A piece's PDF with its structure tree ready to join: the empty spans below its Document
    element dropped (`_without_empty_spans`), and the keys of its parent-tree entries whose
    elements lie outside the reading order (the running header and page number: `_rooted`)
    written into its information dictionary, each as the entry's key and the element's index
    in it, so that the join need not walk the tree."""
    import io

    import pikepdf

    pdf = pikepdf.open(io.BytesIO(data))
    own = pdf.Root.get("/StructTreeRoot")
    if own is None:
        return data
    top = own.K[0] if isinstance(own.K, pikepdf.Array) else own.K
    listed: set[tuple[int, int]] = set()
    for element in top.K if isinstance(top.K, pikepdf.Array) else [top.K]:
        _without_empty_spans(element, listed)
    outside = [f"{key}:{i}" for key, value in pikepdf.NumberTree(own.ParentTree).items()
               for i, e in enumerate(value if isinstance(value, pikepdf.Array) else [value]) if e.objgen not in listed]
    pdf.docinfo[f"/{OUTSIDE}"] = " ".join(outside)
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def join(out, pdfs: list, offsets: list[int]) -> None:
    """Give `out` (a pikepdf.Pdf holding the pages of `pdfs`, each piece's from its offset
    on) one structure tree made of the pieces' trees."""
    import pikepdf

    document = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Document,
                                                    K=pikepdf.Array()))
    tree = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=document))
    document.P = tree
    nums: list = []  # the parent tree's key, value pairs (a pikepdf array is made once, at the end)
    shift = 0
    for pdf, offset in zip(pdfs, offsets):
        own = pdf.Root.get("/StructTreeRoot")
        if own is None:
            continue
        if "/Namespaces" in own and "/Namespaces" not in tree:
            tree.Namespaces = copied(out, own.Namespaces)
        top = own.K[0] if isinstance(own.K, pikepdf.Array) else own.K  # the piece's Document element
        outside = {tuple(map(int, k.split(":"))) for k in str(pdf.docinfo.get(f"/{OUTSIDE}", "")).split()}  # `tidy`
        for element in top.K if isinstance(top.K, pikepdf.Array) else [top.K]:
            element = out.copy_foreign(element)
            element.P = document
            document.K.append(element)
        walked: set[tuple[int, int]] = set()
        entries = list(pikepdf.NumberTree(own.ParentTree).items())
        for key, value in entries:
            value = copied(out, value)
            for i, element in enumerate(value if isinstance(value, pikepdf.Array) else [value]):
                if (key, i) in outside:
                    _rooted(element, document, walked)
            nums += [key + shift, value]
        for page in out.pages[offset: offset + len(pdf.pages)]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + shift
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + shift
        shift += max((key for key, _ in entries), default=-1) + 1
    tree.ParentTree = out.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(nums)))
    tree.ParentTreeNextKey = shift
    out.Root.StructTreeRoot = tree


def _without_empty_spans(element, listed: set[tuple[int, int]]):
    """A structure element without the empty spans below it: the stand-ins a piece carries
    for the targets of its links (`pdf_assembly.piece_html`) are spans with no content,
    which the whole document laid out at once does not have. Every element kept is added
    to `listed`."""
    import pikepdf

    listed.add(element.objgen)
    kids = element.get("/K")
    if isinstance(kids, pikepdf.Array):
        kept = [_without_empty_spans(k, listed) if isinstance(k, pikepdf.Dictionary) and "/S" in k else k for k in kids
                if not (isinstance(k, pikepdf.Dictionary) and k.get("/S") == pikepdf.Name.Span and not k.get("/K"))]
        if len(kept) != len(kids):
            element.K = pikepdf.Array(kept)
    return element


def _rooted(element, document, seen: set[tuple[int, int]]) -> None:
    """Point the outermost ancestor of a marked element at the joined Document element.
    WeasyPrint gives the running header and the page number elements of their own whose
    parent is the Document element though it does not list them (so they are out of the
    reading order, as they should be); left pointing at a piece's Document element, they
    would keep that piece's whole old tree in the joined file. A walk stops at an element of
    the reading order or one an earlier walk went through (`seen`)."""
    walked = []
    while "/P" in element and "/S" in element.P and element.P.S != "/Document":
        if element.objgen in seen:
            return
        walked.append(element.objgen)
        element = element.P
    if "/P" in element and element.P.get("/S") == "/Document":
        element.P = document
    seen.update(walked)


def copied(out, value):
    """A value of another PDF in `out`: its indirect objects copied (once: pikepdf maps each
    foreign object to one copy), its direct arrays and dictionaries rebuilt around them."""
    import pikepdf

    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return out.copy_foreign(value)
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([copied(out, v) for v in value])
    if isinstance(value, pikepdf.Dictionary):
        return pikepdf.Dictionary({k: copied(out, v) for k, v in value.items()})
    return value
