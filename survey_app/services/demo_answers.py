"""Answers of the demo's simulated residents, drawn from a latent-satisfaction model.

Real satisfaction surveys are not sets of independent items: a household that is content
with the programme tends to rate every aspect well, and some aspects (the compensation or
subsidy amount, complaint handling) are rated lower by almost everybody. So each
household has one latent satisfaction

    theta = mu[group] + community effect + project effect + N(0, 1),

and each rating item is an ordered-probit response to it: the item's propensity
``theta + shift[item] + N(0, noise[item])`` is cut at the item's own thresholds into the
codes 1..5. With the noise below the items correlate about 0.45 on the code scale, so
Cronbach's alpha of the eight or nine dimension items is about 0.85, as published
satisfaction scales of this length report (0.8-0.9); the overall item has less noise,
being the resident's summary of the same feeling. Paper forms, filled in while a
community worker waits, come out slightly more favourable (a mode effect the dashboard
should find). Whether a household has complained, and the comment it writes, follow the
same latent value: unhappy households complain and write more, and write about the
aspect they rated lowest.

Comments are phrases a resident would write, with no names, addresses or numbers that
could identify anyone.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from questionnaires import validate_answers
from questionnaires.model import Questionnaire

# Mean latent satisfaction per household group (probit scale).
GROUP_MEAN = {"relocated": 1.85, "rental_subsidy": 1.65}
COMMUNITY_EFFECT = {"HS-THL": 0.2, "HS-JYS": -0.1, "HS-HLS": 0.05, "HS-LL": -0.3, "HS-HB": 0.0}
PROJECT_EFFECT = {"龙岭片区棚户区改造项目": 0.1, "桃花仑片区棚户区改造项目": -0.25,
                  "会龙路片区棚户区改造项目": 0.2}
PAPER_SHIFT = 0.15
# Per dimension: shift of the propensity (negative: rated lower) and its noise.
ITEM_SHIFT = {
    "policy_awareness": 0.05, "benefit_standard": -0.55, "process_fairness": 0.0,
    "payment_timeliness": 0.2, "housing_improvement": 0.1, "staff_attitude": 0.4,
    "information_disclosure": -0.1, "procedure_convenience": -0.3, "complaint_handling": -0.6,
    # Asked last, the overall question is answered a little more sternly than its parts.
    "overall": -0.3,
}
# The rental subsidy is paid monthly and late payments are its usual complaint.
GROUP_ITEM_SHIFT = {("rental_subsidy", "payment_timeliness"): -0.35,
                    ("rental_subsidy", "housing_improvement"): -0.15}
ITEM_NOISE = 0.95
OVERALL_NOISE = 0.55
# Cut points of the propensity into codes 2, 3, 4 and 5; staff attitude gets more
# 非常满意 than the money does.
THRESHOLDS = (-2.0, -1.0, 0.0, 1.45)
TOP_THRESHOLD_SHIFT = {"staff_attitude": -0.3, "benefit_standard": 0.35}
DONT_KNOW_RATE = {"information_disclosure": 0.06, "policy_awareness": 0.03}
DONT_KNOW_DEFAULT = 0.035

# Comments a resident writes, by the aspect they rated lowest (and by group where the
# wording differs), and by contented residents.
COMPLAINTS = {
    ("relocated", "benefit_standard"): (
        "补偿标准偏低，现在房价涨了，补偿款买不到同样大的房子。",
        "希望提高补偿标准，参照周边二手房价格评估。",
        "补偿款不够买新房，还要自己贷款，压力很大。",
        "评估价格偏低，和市场价差距较大。",
    ),
    ("rental_subsidy", "benefit_standard"): (
        "补贴金额偏低，房租涨了补贴没涨，希望适当提高补贴标准。",
        "补贴标准几年没调整了，希望根据租金水平调整。",
        "补贴只够交一小部分房租，负担还是重。",
    ),
    ("relocated", "payment_timeliness"): (
        "补偿款分几次才到账，希望一次性发放到位。",
        "签约后等了很久补偿款才到账。",
    ),
    ("rental_subsidy", "payment_timeliness"): (
        "补贴发放时间不固定，有时候拖两三个月，希望按月准时发放。",
        "希望租赁补贴按时发放，不要拖欠。",
        "补贴到账时间不稳定，交房租的时候很着急。",
    ),
    "procedure_convenience": (
        "办理手续材料太多，来回跑了好几趟。",
        "年度复核要交的证明太多，希望简化手续。",
        "希望能在网上或手机上办理，不用每次都跑社区。",
        "办事窗口开放时间短，上班族请假去办很不方便。",
    ),
    "information_disclosure": (
        "公示信息贴在公告栏，字太小，老年人看不清楚。",
        "希望把政策和公示结果发到社区微信群里。",
        "公示时间太短，没来得及看就撤了。",
    ),
    "process_fairness": (
        "希望审核更公平公开，有的人条件比我好也领到了。",
        "评估过程不透明，不知道价格是怎么算出来的。",
    ),
    "housing_improvement": (
        "周边配套设施还不完善，买菜看病不方便。",
        "小区没有电梯，老人上下楼困难。",
        "租的房子比较旧，漏水也没人修。",
    ),
    "complaint_handling": (
        "反映问题以后很久才有人处理，希望及时回复。",
        "打了几次电话反映情况，一直没有结果。",
    ),
    "staff_attitude": (
        "个别工作人员态度不耐烦，问多了就不高兴。",
    ),
    "policy_awareness": (
        "政策宣传不到位，很多人不知道怎么申请。",
        "希望工作人员上门讲解政策，文件看不太懂。",
    ),
}
# Thanks use other words than the complaints, so that the comment themes (counted by
# word) stay about problems.
PRAISE = (
    "整体满意，希望继续保持。",
    "感谢党和政府的关心，这是实实在在的好事。",
    "服务很周到，谢谢你们。",
    "解决了我家的实际困难，非常感谢。",
    "没有什么意见，挺好的。",
)
COMMENT_CHANCE_UNHAPPY = 0.6
COMMENT_CHANCE_CONTENT = 0.2


def household_latent(rng: random.Random, group: str, community_code: str | None,
                     project_name: str | None, shift: float = 0.0) -> float:
    """One household's latent satisfaction (probit scale, mean ``GROUP_MEAN[group]``
    + ``shift``: another year's level)."""
    return (GROUP_MEAN[group] + COMMUNITY_EFFECT.get(community_code or "", 0.0)
            + PROJECT_EFFECT.get(project_name or "", 0.0) + rng.gauss(0.0, 1.0)) + shift


def rating_code(rng: random.Random, group: str, dimension: str, latent: float,
                na_code: str | None, extra_shift: float = 0.0) -> str:
    """An ordered-probit code for one item: propensity cut at the item's thresholds.

    ``na_code``: the scale's 不清楚 code, chosen now and then; None where not offered.
    ``extra_shift``: moves this item's propensity (another year's level of the item).
    """
    if na_code is not None and rng.random() < DONT_KNOW_RATE.get(dimension, DONT_KNOW_DEFAULT):
        return na_code
    noise = OVERALL_NOISE if dimension == "overall" else ITEM_NOISE
    propensity = (latent + ITEM_SHIFT.get(dimension, 0.0)
                  + GROUP_ITEM_SHIFT.get((group, dimension), 0.0) + rng.gauss(0.0, noise)
                  ) + extra_shift
    cuts = (*THRESHOLDS[:3], THRESHOLDS[3] + TOP_THRESHOLD_SHIFT.get(dimension, 0.0))
    return str(1 + sum(propensity > cut for cut in cuts))


@dataclass(frozen=True)
class Resident:
    """Who answers: their household group, latent satisfaction and answering mode;
    ``item_shift`` moves single items (dimension -> probit shift; another year's levels)."""

    group: str
    latent: float
    on_paper: bool = False
    item_shift: dict[str, float] = field(default_factory=dict)


def simulated_answers(questionnaire: Questionnaire, rng: random.Random,
                      resident: Resident) -> dict:
    """Valid answers of one simulated resident, skip logic applied."""
    latent = resident.latent + (PAPER_SHIFT if resident.on_paper else 0.0)
    raw: dict[str, str | list[str]] = {}
    ratings: dict[str, int] = {}
    for q in questionnaire.questions():
        if q.type == "rating":
            na_code = questionnaire.scale.na_code if q.allow_na else None
            code = rating_code(rng, resident.group, q.dimension, latent, na_code,
                               resident.item_shift.get(q.dimension, 0.0))
            raw[q.id] = code
            if code != na_code and not q.overall:
                ratings[q.dimension] = int(code)
        elif q.type == "text":
            raw[q.id] = resident_comment(rng, resident.group, latent, ratings)
        else:
            raw[q.id] = _background_answer(q, rng, latent - GROUP_MEAN[resident.group])
    check = validate_answers(questionnaire, raw)
    if check.errors:
        raise RuntimeError(f"demo answers invalid: {check.errors}")
    return check.values


def resident_comment(rng: random.Random, group: str, latent: float,
                     ratings: dict[str, int]) -> str:
    """A comment (often none): unhappy residents write about the aspect they rated lowest."""
    lowest = min(ratings.values(), default=5)
    unhappy = lowest <= 3
    if rng.random() >= (COMMENT_CHANCE_UNHAPPY if unhappy else COMMENT_CHANCE_CONTENT):
        return ""
    if not unhappy:
        return rng.choice(PRAISE)
    worst = [d for d, code in ratings.items() if code == lowest]
    rng.shuffle(worst)
    for dimension in worst:
        phrases = COMPLAINTS.get((group, dimension)) or COMPLAINTS.get(dimension)
        if phrases:
            return rng.choice(phrases)
    return rng.choice(COMPLAINTS["procedure_convenience"])


def _background_answer(q, rng: random.Random, relative: float) -> str | list[str]:
    """Choice and number questions; ``relative``: the latent value minus the group's mean."""
    if q.type == "multiple":
        return [o.code for o in q.options if rng.random() < 0.3]
    if q.type == "integer":
        return str(_household_size(rng, q.min or 1, q.max or 20))
    if q.id == "has_complained":
        # 5 % of contented households complained, about a third of the unhappiest.
        chance = 0.05 + 0.3 * _normal_cdf(-1.0 - 1.5 * relative)
        return "1" if rng.random() < chance else "2"
    codes = [o.code for o in q.options]
    weights = _SINGLE_WEIGHTS.get(q.id, (1.0,) * len(codes))
    return rng.choices(codes, weights=weights[:len(codes)])[0]


_SINGLE_WEIGHTS = {
    "is_household_head": (0.72, 0.28),
    "age_band": (0.08, 0.27, 0.37, 0.28),
    "knows_policy": (0.45, 0.45, 0.10),
}


def _household_size(rng: random.Random, low: int, high: int) -> int:
    size = rng.choices((1, 2, 3, 4, 5, 6), weights=(0.12, 0.26, 0.30, 0.18, 0.09, 0.05))[0]
    return min(max(size, low), high)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
