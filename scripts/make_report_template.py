"""Write the shipped Word template of the report section 居民满意度调查情况.

The template is an ordinary .docx with docxtpl (Jinja2) placeholders: an evaluation firm
downloads it from the dashboard, restyles or rewords it in Word or WPS and uploads it back.
This script is how the shipped one is made, so its styles are reviewable as code:

- A4 portrait, margins 2.54 cm (top/bottom) and 3.17 cm (left/right), as Word's Chinese
  default;
- every style names an East-Asian font in ``w:rFonts/@w:eastAsia`` (body 仿宋, headings and
  captions 黑体, tables 宋体) and Times New Roman for Latin text and digits; 小四 (12 pt) body
  with a two-character first-line indent and 1.5 line spacing;
- captions are Word SEQ fields (表 above a table, 图 below a figure), so Word renumbers
  them when the firm moves or adds one (F9), and their text already holds the number.

Run ``python scripts/make_report_template.py`` after changing it; the output is committed
as ``survey_app/data/report_template.docx`` (a test renders it for the demo campaign).
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

OUT = Path(__file__).resolve().parent.parent / "survey_app" / "data" / "report_template.docx"
LATIN = "Times New Roman"
#: Width of the A4 text block between the margins (21 - 2 x 3.17 cm).
TEXT_WIDTH_CM = 14.66


def _fonts(style, east_asian: str, size: float, *, bold: bool = False) -> None:
    font = style.font
    font.name, font.size, font.bold = LATIN, Pt(size), bold
    font.color.rgb = RGBColor(0, 0, 0)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for key in list(fonts.attrib):  # drop theme fonts, which would win over the names
        if key.endswith("Theme"):
            del fonts.attrib[key]
    for attr, value in (("w:ascii", LATIN), ("w:hAnsi", LATIN), ("w:eastAsia", east_asian),
                        ("w:cs", LATIN)):
        fonts.set(qn(attr), value)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _first_line_indent_chars(style, chars: int) -> None:
    ppr = style.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    ind.set(qn("w:firstLineChars"), str(chars * 100))
    ind.set(qn("w:firstLine"), str(chars * 240))


def _styles(d) -> None:
    normal = d.styles["Normal"]
    _fonts(normal, "仿宋", 12)
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(0)
    _first_line_indent_chars(normal, 2)
    for name, size, east_asian in (("Heading 1", 16, "黑体"), ("Heading 2", 14, "黑体"),
                                   ("Heading 3", 12, "黑体")):
        style = d.styles[name]
        _fonts(style, east_asian, size, bold=True)
        style.paragraph_format.space_before = Pt(12)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.first_line_indent = Cm(0)
    d.styles["Heading 1"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption = d.styles["Caption"]
    _fonts(caption, "黑体", 10.5)
    caption.font.italic = False
    caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.first_line_indent = Cm(0)
    caption.paragraph_format.space_before = Pt(6)
    caption.paragraph_format.space_after = Pt(6)
    from docx.enum.style import WD_STYLE_TYPE

    cell = d.styles.add_style("表格文字", WD_STYLE_TYPE.PARAGRAPH)
    cell.base_style = normal
    _fonts(cell, "宋体", 10.5)
    cell.paragraph_format.first_line_indent = Cm(0)
    cell.paragraph_format.line_spacing = 1.0
    cell.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    note = d.styles.add_style("表注", WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = normal
    _fonts(note, "宋体", 9)
    note.paragraph_format.first_line_indent = Cm(0)
    note.paragraph_format.line_spacing = 1.0


def _page(d) -> None:
    section = d.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2.54)
    section.left_margin = section.right_margin = Cm(3.17)


def _field_run(paragraph, instruction: str, cached: str) -> None:
    """A Word field (e.g. ``SEQ 表 \\* ARABIC``) whose last computed text is ``cached``."""
    def run_with(child):
        run = paragraph.add_run()
        run._r.append(child)
        return run

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run(cached)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


class Numbering:
    """表 and 图 captions numbered by SEQ fields, in document order.

    A caption inside ``{%p if NAME %}`` (``optional="NAME"``) shifts the numbers after it:
    their cached text is a placeholder that counts it only when NAME is true, so the
    document reads right before Word updates the fields.
    """

    def __init__(self) -> None:
        self.counts = {"表": 0, "图": 0}
        self.optional: dict[str, list[str]] = {"表": [], "图": []}

    def caption(self, d, kind: str, title: str, *, optional: str | None = None) -> None:
        self.counts[kind] += 1
        shown = str(self.counts[kind])
        if optional is None and self.optional[kind]:
            fixed = self.counts[kind] - len(self.optional[kind])
            shown = "{{ " + " + ".join([str(fixed)] + [f"(1 if {name} else 0)"
                                                       for name in self.optional[kind]]) + " }}"
        p = d.add_paragraph(style="Caption")
        # A table's caption stays on the page of its table (not alone at a page's foot).
        p.paragraph_format.keep_with_next = kind == "表"
        p.add_run(kind)
        _field_run(p, f"SEQ {kind} \\* ARABIC", shown)
        p.add_run(f"\u3000{title}")
        if optional is not None:
            self.optional[kind].append(optional)


def _row_property(row, name: str) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement(f"w:{name}"))


def _table(d, header: list[str], loop: str, cells: list[str], widths: list[float], *,
           left: tuple[int, ...] = ()) -> None:
    """A grid table: the header, then one row repeated by docxtpl's ``{%tr for %}``.

    ``widths`` (cm, summing to the 14.66 cm text block) are fixed, so a long label or note
    gets a wide column instead of every column being equal; the header row repeats on each
    page the table runs onto, and a row is not split across pages. Columns in ``left``
    (long text) are left-aligned.
    """
    assert len(widths) == len(header) == len(cells)
    assert abs(sum(widths) - TEXT_WIDTH_CM) < 0.01, sum(widths)
    table = d.add_table(rows=4, cols=len(header))
    table.style = "Table Grid"
    table.alignment = 1  # centred
    table.autofit = False  # w:tblLayout fixed: Word keeps the widths below
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    _row_property(table.rows[0], "tblHeader")
    _row_property(table.rows[2], "cantSplit")
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].style = "表格文字"
        cell.paragraphs[0].add_run(text).bold = True
    table.rows[1].cells[0].paragraphs[0].text = "{%tr for r in " + loop + " %}"
    for i, (cell, text) in enumerate(zip(table.rows[2].cells, cells, strict=True)):
        cell.paragraphs[0].style = "表格文字"
        cell.paragraphs[0].text = text
        if i in left:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.LEFT
    table.rows[3].cells[0].paragraphs[0].text = "{%tr endfor %}"


def _paragraphs(d, loop: str, body: str) -> None:
    d.add_paragraph("{%p for s in " + loop + " %}")
    d.add_paragraph(body)
    d.add_paragraph("{%p endfor %}")


def build() -> Document:
    d = Document()
    _styles(d)
    _page(d)
    n = Numbering()
    d.add_heading("居民满意度调查情况", level=1)

    d.add_heading("一、调查概况", level=2)
    _paragraphs(d, "overview", "{{ s }}")
    n.caption(d, "表", "各类住户抽样与问卷回收情况")
    _table(d, ["住户类别", "名册户数", "样本户数", "回收问卷（样本户）", "回答率"], "t_sample",
           ["{{ r.label }}", "{{ r.households }}", "{{ r.sampled }}", "{{ r.completed }}",
            "{{ r.rate }}"], [3.66, 2.5, 2.5, 3.5, 2.5])
    d.add_paragraph("{{ sample_note }}", style="表注")

    d.add_heading("二、满意度测评结果", level=2)
    _paragraphs(d, "headline", "{{ s }}")
    # Only a campaign with last year's campaign gets the table (its paragraph is the last
    # of the headline).
    d.add_paragraph("{%p if t_year_over_year %}")
    n.caption(d, "表", "主要指标与上年比较", optional="t_year_over_year")
    _table(d, ["指标", "上年", "本年", "变化（满意率为百分点）", "变化的95%置信区间",
               "真实变化不低于0的可能性", "是否达到“不低于上年”"], "t_year_over_year",
           ["{{ r.label }}", "{{ r.previous }}", "{{ r.current }}", "{{ r.change }}",
            "{{ r.ci }}", "{{ r.p }}", "{{ r.verdict }}"],
           [3.8, 1.55, 1.55, 1.75, 2.6, 1.7, 1.71])
    d.add_paragraph("{{ year_over_year_note }}", style="表注")
    d.add_paragraph("{%p endif %}")
    n.caption(d, "表", "各项评价内容满意度测评结果")
    _table(d, ["评价内容", "有效回答", "满意率", "95%置信区间", "满意度得分"], "t_items",
           ["{{ r.label }}", "{{ r.n_valid }}", "{{ r.rate }}", "{{ r.ci }}", "{{ r.score }}"],
           [3.66, 2.2, 2.2, 3.6, 3.0])
    d.add_paragraph("{{ items_note }}", style="表注")
    d.add_paragraph("{%p if chart %}")
    picture = d.add_paragraph("{{ chart }}")
    picture.paragraph_format.first_line_indent = Cm(0)
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    n.caption(d, "图", "各项评价内容满意率及95%置信区间")
    d.add_paragraph("{%p endif %}")
    _paragraphs(d, "dimension_text", "{{ s }}")
    n.caption(d, "表", "分住户类别、项目和社区的总体满意率")
    _table(d, ["分组", "名称", "有效问卷", "总体满意率", "95%置信区间"], "t_breakdown",
           ["{{ r.kind }}", "{{ r.label }}", "{{ r.respondents }}", "{{ r.rate }}",
            "{{ r.ci }}"], [1.8, 4.46, 2.2, 2.6, 3.6])
    d.add_paragraph("{{ breakdown_note }}", style="表注")

    d.add_heading("三、问卷信度与满意度影响因素", level=2)
    _paragraphs(d, "analysis_text", "{{ s }}")

    d.add_heading("四、群众反映的主要问题", level=2)
    _paragraphs(d, "problems_intro", "{{ s }}")
    _paragraphs(d, "problems", "{{ s }}")

    d.add_heading("五、满意度指标完成情况", level=2)
    _paragraphs(d, "indicator_text", "{{ s }}")
    n.caption(d, "表", "服务对象满意度指标完成情况")
    _table(d, ["一级指标", "二级指标", "三级指标", "指标值类型", "年度目标值", "实际完成值",
               "分值", "得分", "偏差原因分析及改进措施"], "t_indicator",
           ["{{ r.first_level }}", "{{ r.second_level }}", "{{ r.third_level }}",
            "{{ r.comparison }}", "{{ r.target }}", "{{ r.actual }}", "{{ r.points }}",
            "{{ r.earned }}", "{{ r.note }}"],
           [1.2, 1.4, 2.2, 1.0, 1.4, 1.4, 1.25, 1.25, 3.56], left=(8,))

    d.add_heading("六、调查方法说明与局限", level=2)
    _paragraphs(d, "method_text", "{{ s }}")
    return d


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    build().save(OUT)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
