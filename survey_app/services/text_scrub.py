"""Personal data in what residents type: found and replaced by labelled placeholders.

A comment box receives whatever a resident writes, and residents write their phone
number, ID number, name and flat so that somebody calls back. :func:`scrub` replaces
those with placeholders before the text leaves the system (exports, comment themes, the
report, the API, the dashboard); the original stays in the answer rows and only an
evaluator who gives a reason sees it (``services/comment_privacy.py``). Pure: ``re`` only,
so the log filter (``survey_app/log_redaction.py``) shares the number patterns.

The rules, chosen so that ordinary comments ("住了3年", "5楼漏水", "2021年", "每月8号",
"补贴1200元") come through unchanged:

Numbers (ASCII or full-width digits, groups separated by up to three spaces, dashes or
brackets; checked in this order, a digit directly before or after rules a match out)
    ``[身份证号]``  18 characters (17 digits and a digit or X), or 15 digits.
    ``[电话]``      a mobile number (11 digits from 13-19), with an optional +86, 0086 or
                   86 prefix; a landline: an area code starting with 0 (in brackets or
                   not) and 7-8 digits, or 0 and 9-11 more digits in one run, with an
                   optional extension (转/分机/ext and 1-5 digits).
    ``[号码]``      any other run of 7 or more digits (bank cards, local numbers,
                   account numbers; ``[电话]`` after 电话, 手机, 座机, 联系 or 拨打)
                   unless it is a date (19xx/20xx with a valid month and
                   day, 8 digits or dashed) or an amount (followed by 元, 块, 万, 平, 米,
                   ㎡, % or 户/人/次/天).
Addresses ``[地址]``
    a building with a unit or a room ("3栋2单元501室", "5号楼302", "十二幢1402",
    "3-2-501", "3栋2单元5楼"), a unit and a room ("2单元501"), a room number alone
    ("502室", "1202房"), a road, lane or village number ("人民路88号", "3组12号"). An
    estate's name stays ("桃花小区[地址]": the response's community says as much), and so
    does a building, a unit or a floor alone ("3栋2单元的楼道灯", "5楼漏水").
Names ``[姓名]``
    two to four characters starting with a common surname, right after a cue (我叫, 我是,
    本人, 户主, 联系人, 名字叫/是, 姓名：, 他叫/她叫, 叫做, ...) and followed by the end, a
    punctuation mark, a digit or a word that ends a name (住, 家, 在, 的, 电话, 先生, ...);
    after 姓 (not 百姓, 姓名) the surname itself ("我姓王" → "我姓[姓名]").
E-mail addresses ``[邮箱]``; licence plates ``[车牌]`` (a province's character, a letter,
five or six letters and digits: "湘A12345", "湘AD12345").

What it cannot find: names without a cue ("王秀英老人反映..."), numbers written in
Chinese numerals (一三八...), workplaces and nicknames. An evaluator removes those by hand
(a :class:`Redaction`, stored per response).

>>> scrub("我叫张建国，电话138-1234-5678，住桃花小区3栋2单元501室，5楼漏水3年了")
'我叫[姓名]，电话[电话]，住桃花小区[地址]，5楼漏水3年了'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ID_LABEL = "[身份证号]"
PHONE_LABEL = "[电话]"
NUMBER_LABEL = "[号码]"
ADDRESS_LABEL = "[地址]"
NAME_LABEL = "[姓名]"
EMAIL_LABEL = "[邮箱]"
PLATE_LABEL = "[车牌]"
WITHHELD_LABEL = "[已隐去]"
#: What a comment withheld as a whole reads as everywhere.
WITHHELD_COMMENT = "[意见已隐去]"

_D = "[0-9０-９]"
_NOT_D = "(?<![0-9０-９])"
_NO_D_AFTER = "(?![0-9０-９])"
# Between digit groups: spaces, dashes of every width, brackets (at most three of them).
_SEP = "[ \u3000\\-－—–‐_()（）]{0,3}"


def _digits(n: int) -> str:
    """``n`` digits, each pair optionally separated."""
    return _D + (f"(?:{_SEP}{_D})" + "{" + str(n - 1) + "}")


# ID numbers start with a province code (11-82), never 0: "0086 138..." is a phone.
_ID_NUMBER = (f"{_NOT_D}(?=[1-9１-９])(?:{_digits(17)}{_SEP}[0-9０-９XxＸｘ]|{_digits(15)})"
              f"{_NO_D_AFTER}")
_EXTENSION = f"(?:{_SEP}(?:转|分机|ext\\.?|[xX]){_SEP}{_D}{{1,5}}{_NO_D_AFTER})?"
_MOBILE = (f"(?:{_NOT_D}(?:[+＋]|00)?86{_SEP}|{_NOT_D})[1１]{_SEP}[3-9３-９](?:{_SEP}{_D}){{9}}"
           f"{_NO_D_AFTER}")
_LANDLINE = (f"(?:{_NOT_D}[(（]?[0０]{_D}{{2,3}}[)）]?{_SEP}[1-9１-９](?:{_SEP}{_D}){{6,7}}"
             f"|{_NOT_D}[0０](?:{_SEP}{_D}){{9,11}}){_NO_D_AFTER}{_EXTENSION}")
# 19xx/20xx, month 01-12, day 01-31: 8 digits or dashed (2021-03-15).
_DATE = f"(?:19|20){_D}{_D}[-－/]?(?:0[1-9]|1[0-2])[-－/]?(?:0[1-9]|[12]{_D}|3[01])"
_AMOUNT_AFTER = "(?=[ \u3000]?(?:元|块|万|千|百|平|米|㎡|%|％|户|人|次|天|个|分|斤|度|吨))"
_LONG_NUMBER = f"{_NOT_D}{_D}(?:{_SEP}{_D}){{6,}}{_NO_D_AFTER}"

NUMBER_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(_ID_NUMBER), ID_LABEL),
    (re.compile(_MOBILE), PHONE_LABEL),
    (re.compile(_LANDLINE), PHONE_LABEL),
)
"""ID numbers and phone numbers with separators (shared with the log filter)."""

_LONG_NUMBER_RE = re.compile(_LONG_NUMBER)
_DATE_RE = re.compile(f"^{_DATE}$")
_AMOUNT_AFTER_RE = re.compile(_AMOUNT_AFTER)
_PHONE_CUE_RE = re.compile("电话|手机|座机|联系|拨打|致电|[Tt]el")

_CN = "[一二三四五六七八九十零〇两百]"
_NUM = f"(?:{_D}{{1,4}}|{_CN}{{1,4}})"
_ROOM = f"(?:{_D}{{3,4}}|{_CN}{{3,4}})"
# A road or village name: Chinese characters that are not words a sentence puts before
# it ("住在人民路88号" loses only "人民路88号").
_PLACE = "(?:(?![我你他她住在是的了到从于和与及向往对这那有没就都还说个])[\u4e00-\u9fff]){1,6}"
_ROAD = f"(?:{_PLACE}(?:路|街|大道|巷|弄|胡同|村){_NUM}号(?:院|楼)?|{_NUM}组{_NUM}号)"
_BUILDING = f"{_NUM}(?:号楼|号栋|栋|幢|座)"
_UNIT = f"{_NUM}(?:单元|门)"
_GAP = "[ \u3000\\-－]?"
# Two expressions: the building chains start with a number, so ``re`` scans for a digit
# or numeral before trying them; road numbers are looked for only after a road word.
_ADDRESS_RE = re.compile(
    f"(?:{_BUILDING}{_GAP}(?:{_UNIT}{_GAP})?{_ROOM}(?:室|房(?!间)|号|户)?"
    f"|{_BUILDING}{_GAP}{_UNIT}{_GAP}{_NUM}楼"
    f"|{_UNIT}{_GAP}{_ROOM}(?:室|房(?!间)|号|户)?"
    f"|{_NOT_D}{_D}{{1,2}}[-－]{_D}{{1,2}}[-－]{_D}{{3,4}}{_NO_D_AFTER}"
    f"|{_NOT_D}{_ROOM}(?:室|房间?))")
_ROAD_HINT_RE = re.compile(f"(?:路|街|大道|巷|弄|胡同|村|组){_NUM}号")
_ROAD_RE = re.compile(_ROAD)
# A road number directly followed by its building: one placeholder.
_ADJACENT_ADDRESSES_RE = re.compile(f"\\[地址\\](?:{_GAP}\\[地址\\])+")

# The most common surnames (about 90 % of the population) and the compound ones.
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
             "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱"
             "江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢"
             "安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅"
             "童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
             "尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全"
             "佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
_COMPOUND = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|端木"
_SURNAME = f"(?:{_COMPOUND}|[{_SURNAMES}])"
_NAME_END = ("(?=$|[\\s，。,.；;：:！!？?、）)（(“”\"'0-9０-９]|住|家|在|是|的|电话|手机|联系"
             "|身份证|今年|现年|女士|先生|同志|阿姨|大爷|大妈|大姐|师傅|反映|想|要|希望"
             "|请|和|与|及|我|也|一家|这|那|\\[)")
_KIN = "老伴|老婆|老公|爱人|丈夫|妻子|父亲|母亲|爸爸|妈妈|儿子|女儿|儿媳|女婿"
_NAME_CUE = (f"我叫|我名叫|本人叫|名字叫|名字是|叫做|他叫|她叫|(?:{_KIN})(?:叫|是|名叫)?"
             "|我是|本人是|本人|户主是|户主|户主姓名|联系人是|联系人|申请人|签名|姓名")
_NAME_RE = re.compile(f"(?P<cue>(?:{_NAME_CUE})[:： ]?)(?P<name>{_SURNAME}"
                      f"[\u4e00-\u9fff]{{1,2}}?){_NAME_END}")
# Words after 我是/本人 that start like a name but say what the resident is.
_ROLE_ENDINGS = tuple("人户员主者属")
# A name standing alone (text start, punctuation or space before it) right before a phone,
# an ID number, an address or a word asking to be called, or with a title after it.
_LEADING_NAME_RE = re.compile(
    f"(?:^|(?<=[\\s，。,.；;：:！!？?、]))(?:(?P<name>{_SURNAME}[\u4e00-\u9fff]{{1,2}}?)"
    f"(?=[\\s，,：:]*(?:\\[电话\\]|\\[身份证号\\]|\\[地址\\]|\\[号码\\]|电话|手机|身份证|联系|号码))"
    f"|(?P<titled>{_SURNAME}[\u4e00-\u9fff]{{2}})(?=老人|阿姨|大爷|奶奶|爷爷|女士|先生))")
_SURNAME_RE = re.compile(f"(?P<cue>(?<!百)姓[:： ]?)(?!名){_SURNAME}")
# Two-character words after a cue that are not names (党员, 房东, 车主, ...).
_NOT_NAMES = frozenset(("党员", "房东", "车主", "业主", "申请", "安置", "老人", "居民", "单身",
                        "江西", "湖南", "武汉", "常德", "郑州", "长沙", "江苏", "安徽", "贵州",
                        "宁夏", "云南", "广东", "广西", "福建", "山东", "河南", "湖北", "四川",
                        "程序", "高龄", "孤寡", "残疾", "低保", "外地", "本地", "原来", "第一"))
# Characters no given name holds but sentences do ("女儿和我住" is no name).
_FUNCTION_CHARS = frozenset("我你他她们的了在是不都也还就和与很太说")
_PLATE_RE = re.compile("[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
                       "[A-HJ-NP-Za-hj-np-z][A-Za-z0-9]{5,6}(?![A-Za-z0-9])")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")


def _long_number(match: re.Match[str]) -> str:
    digits = re.sub("[^0-9０-９]", "", match.group())
    if _DATE_RE.match(match.group().strip()) or _DATE_RE.match(digits):
        return match.group()
    if _AMOUNT_AFTER_RE.match(match.string, match.end()):
        return match.group()
    before = match.string[max(0, match.start() - 6):match.start()]
    return PHONE_LABEL if _PHONE_CUE_RE.search(before) else NUMBER_LABEL


@dataclass(frozen=True)
class Redaction:
    """An evaluator's hand redaction of one response's text (``CommentRedaction``)."""

    fragments: tuple[str, ...] = ()
    withhold_all: bool = False


NO_REDACTION = Redaction()
_PLACEHOLDER_RE = re.compile("\\[(?:身份证号|电话|号码|地址|姓名|邮箱|车牌|已隐去|意见已隐去)\\]")


def without_placeholders(text: str) -> str:
    """``text`` with the placeholders blanked: what the comment themes segment, so that
    "电话" or "姓名" are never a theme because residents' numbers were removed.

    >>> without_placeholders("我叫[姓名]，电话[电话]")
    '我叫 ，电话 '
    """
    return _PLACEHOLDER_RE.sub(" ", text)


# What any rule needs somewhere in the text (a digit, an @, a numeral before a building
# word, a name cue or title). Most comments have none of it, and skip every pattern: an
# export of 100,000 responses scrubs every comment (CPU: ~14 us each through the
# patterns, ~1 us through this test alone).
_MAYBE_PERSONAL_RE = re.compile(
    f"[0-9０-９@]|{_CN}(?:号|栋|幢|座|单元|门|室|房|楼|组)|叫|我是|人是|主是|字是|本人|户主|联系"
    f"|申请人|签名|姓|电话|手机|身份证|号码|老人|阿姨|大爷|奶奶|爷爷|女士|先生|{_KIN}")


def _name(match: re.Match[str]) -> str:
    name = match.group("name")
    if (len(name) > 2 and name.endswith(_ROLE_ENDINGS) or name in _NOT_NAMES
            or any(char in _FUNCTION_CHARS for char in name[1:])):
        return match.group()
    return match.group("cue") + NAME_LABEL


def _leading_name(match: re.Match[str]) -> str:
    name = match.group("name") or match.group("titled")
    if name in _NOT_NAMES or any(char in _FUNCTION_CHARS for char in name[1:]):
        return name
    return NAME_LABEL


def scrub_numbers(text: str) -> str:
    """ID and phone numbers with separators replaced (the part the log filter reuses).

    >>> scrub_numbers("call +86 138 1234 5678 or (0731)5556666转801, ID 43090319900101123x")
    'call [电话] or [电话], ID [身份证号]'
    """
    for pattern, label in NUMBER_PATTERNS:
        text = pattern.sub(label, text)
    return text


def scrub(text: str, redaction: Redaction = NO_REDACTION) -> str:
    """``text`` with personal data replaced by labelled placeholders: the one function
    every outlet of residents' free text goes through.

    Parameters
    ----------
    text : str
        What a resident typed.
    redaction : Redaction
        An evaluator's hand redaction: its fragments become ``[已隐去]`` (before the
        patterns run); ``withhold_all`` makes any non-empty text ``[意见已隐去]``.

    Returns
    -------
    str
        The text fit to leave the system; idempotent (``scrub(scrub(t)) == scrub(t)``).

    Examples
    --------
    >>> scrub("姓王，身份证430903199001011234，人民路88号")
    '姓[姓名]，身份证[身份证号]，[地址]'
    >>> scrub("2021年补贴1200元，每月8号发，住了3年，5楼漏水")
    '2021年补贴1200元，每月8号发，住了3年，5楼漏水'
    >>> scrub("楼下那户很吵", Redaction(fragments=("楼下那户",)))
    '[已隐去]很吵'
    """
    if not text:
        return text
    if redaction.withhold_all:
        return WITHHELD_COMMENT
    for fragment in sorted({f for f in redaction.fragments if f}, key=len, reverse=True):
        text = text.replace(fragment, WITHHELD_LABEL)
    if not _MAYBE_PERSONAL_RE.search(text):
        return text
    text = _EMAIL_RE.sub(EMAIL_LABEL, text)
    text = _PLATE_RE.sub(PLATE_LABEL, text)
    text = scrub_numbers(text)
    if _ROAD_HINT_RE.search(text):
        text = _ROAD_RE.sub(ADDRESS_LABEL, text)
    text = _ADDRESS_RE.sub(ADDRESS_LABEL, text)
    text = _ADJACENT_ADDRESSES_RE.sub(ADDRESS_LABEL, text)
    text = _LONG_NUMBER_RE.sub(_long_number, text)
    text = _NAME_RE.sub(_name, text)
    text = _LEADING_NAME_RE.sub(_leading_name, text)
    return _SURNAME_RE.sub(lambda m: m.group("cue") + NAME_LABEL, text)
