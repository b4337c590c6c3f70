"""The pieces every HTML page is made of: sections, preformatted text, inline SVG figures and
tables (escaped)."""
import html
import io


def _section(title, body):
    return [f"<h2>{html.escape(title)}</h2>", body]


def _pre(text):
    return f"<pre>{html.escape(text)}</pre>"


def _svg(plt, figure):
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: inline in HTML


def _table(header, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
