"""The pieces every HTML page is made of: the style sheet, sections, preformatted text, inline SVG
figures (matplotlib, imported on first use) and tables (escaped)."""
import html
import io

_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse}td,th{padding:.2rem .8rem;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}table.facts td{text-align:left;vertical-align:top}table.facts td:first-child{white-space:nowrap}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;white-space:pre-wrap}
svg{max-width:100%;height:auto}"""


def _section(title, body):
    return [f"<h2>{html.escape(title)}</h2>", body]


def _pre(text):
    return f"<pre>{html.escape(text)}</pre>"


def _svg(plt, figure):
    """``figure`` as inline SVG, the same bytes for the same figure: no date in its metadata,
    and element ids hashed with a fixed salt (matplotlib draws a random one otherwise)."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": "gradwise"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: inline in HTML


def _table(header, rows, kind=None):
    """An HTML table (cells escaped); no header row when ``header`` is None; ``kind="facts"``
    aligns every cell left (names and their values rather than numbers)."""
    head = "" if header is None else \
        "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    css = f' class="{kind}"' if kind else ""
    return f"<table{css}>{head}{body}</table>"


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError('The HTML report draws its plots with matplotlib: pip install '
                          '"gradwise[report]" (or matplotlib).') from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def model_summary(model):
    """The text of ``model.summary()``."""
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)
