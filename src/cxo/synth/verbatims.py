"""A bilingual phrase grammar for survey verbatims (English, Simplified Chinese, and code-switched).

A verbatim is one or two sentences about one SERVQUAL dimension with one true sentiment. Every slot
has many fillers: opener, subject (the aspect of the bank), intensifier, predicate (positive or
negative adjective, possibly negated: "not exactly reliable", "一点都不专业"), whole-clause events
("they charged me twice", "转账老是失败"), a context tail and a closer; then colloquial noise and
typos. The grammar is large enough that a classifier cannot succeed by memorising templates
(see ``docs/demo-world.md`` for the distinct-sentence count).

All choices are driven by a row of uniforms ``u`` supplied by the caller, so the output depends
only on the caller's random stream and composing is cheap (no generator calls per slot).
"""

from __future__ import annotations

from typing import Final

import numpy as np

DIMENSIONS: Final = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
SENTIMENTS: Final = ("negative", "neutral", "positive")
N_UNIFORMS: Final = 24
"""Uniforms consumed per verbatim (fixed, so the random stream does not depend on the text)."""

# Per dimension and language: subjects, positive and negative predicates, and whole-clause events.
# fmt: off
_LEX: Final[dict[str, dict[str, dict[str, tuple[str, ...]]]]] = {
    "tangibles": {
        "en": {
            "subj": (
                "the branch", "the new app design", "the app layout", "the ATM", "the lobby",
                "your website", "the monthly statement", "the waiting area", "the card design",
                "the self-service machines", "the online banking screens", "the branch signage",
            ),
            "pos": (
                "clean", "modern", "easy to read", "well laid out", "tidy", "comfortable", "nice",
                "clear", "good looking", "bright", "simple", "user friendly",
            ),
            "neg": (
                "messy", "outdated", "confusing", "cramped", "ugly", "cluttered", "hard to read",
                "old-fashioned", "dirty", "clunky", "a mess", "dated",
            ),
            "pos_ev": (
                "the new app screens look great", "the branch got a nice refurb",
                "everything on the statement is easy to find", "the ATMs are always clean",
                "I can find every menu in the app quickly",
            ),
            "neg_ev": (
                "half the ATMs were out of order", "I can never find anything on the website",
                "the font on the statement is tiny", "there was nowhere to sit in the branch",
                "the app menus keep moving around", "the card reader was broken again",
            ),
        },
        "zh": {
            "subj": (
                "网点环境", "营业厅", "app界面", "手机银行的界面", "ATM机", "自助机", "对账单", "官网", "等候区", "银行卡的设计",
                "网银页面", "大堂",
            ),
            "pos": ("干净", "整洁", "现代", "清楚", "好看", "舒服", "简洁", "一目了然", "明亮", "大气", "清爽", "顺眼"),
            "neg": ("乱", "老旧", "难看懂", "拥挤", "难看", "花哨", "杂乱", "过时", "脏", "土", "别扭", "挤"),
            "pos_ev": ("新版app的页面做得很漂亮", "网点重新装修过了挺舒服", "对账单上什么都找得到", "ATM机一直都很干净", "app里的菜单一下就能找到"),
            "neg_ev": (
                "一半的ATM都坏了", "官网上什么都找不到", "对账单的字小得看不清", "网点里连个坐的地方都没有", "app的菜单老是变来变去", "读卡器又坏了",
            ),
            "mixed_subj": ("app", "UI", "ATM", "branch", "website", "layout"),
        },
    },
    "reliability": {
        "en": {
            "subj": (
                "the transfers", "my statements", "the card payments", "your system",
                "the standing orders", "the interest calculation", "online banking",
                "the direct debits", "the app", "the fee charges", "the FX conversion",
                "the promised callback",
            ),
            "pos": (
                "reliable", "accurate", "spot on", "dependable", "consistent", "correct", "on time",
                "solid", "stable", "trustworthy", "error-free", "rock solid",
            ),
            "neg": (
                "unreliable", "wrong", "late", "flaky", "inconsistent", "buggy", "off",
                "hit and miss", "broken", "unstable", "a joke", "all over the place",
            ),
            "pos_ev": (
                "every payment went through first time", "they did exactly what they promised",
                "my salary always shows up on time", "I have never had a wrong charge",
                "the transfer arrived the same day as promised",
            ),
            "neg_ev": (
                "they charged me twice for the same thing", "my transfer failed three times",
                "the app crashed halfway through a payment",
                "nobody called me back although they promised",
                "my statement showed the wrong balance", "the card got declined for no reason",
            ),
        },
        "zh": {
            "subj": (
                "转账", "对账单", "刷卡支付", "系统", "自动扣款", "利息计算", "网银", "手机银行", "app", "手续费", "换汇",
                "承诺的回电",
            ),
            "pos": ("靠谱", "准确", "稳定", "可靠", "准时", "没毛病", "顺畅", "放心", "到位", "稳", "一次就成功", "从不出错"),
            "neg": (
                "不靠谱", "出错", "延迟", "卡", "不稳定", "老出bug", "乱扣钱", "掉链子", "失灵", "闪退", "慢半拍", "一塌糊涂",
            ),
            "pos_ev": ("每笔转账一次就成功", "说到做到", "工资每次都按时到账", "从来没有乱扣过钱", "转账当天就到了"),
            "neg_ev": (
                "同一笔钱扣了我两次", "转账失败了三次", "付款付到一半app闪退了", "说好回电话结果没人打", "对账单上的余额是错的", "卡莫名其妙被拒了",
            ),
            "mixed_subj": ("app", "system", "transfer", "payment", "online banking"),
        },
    },
    "responsiveness": {
        "en": {
            "subj": (
                "the hotline", "customer service", "the queue at the branch", "the live chat",
                "the complaint team", "the call centre", "the response to my email",
                "the loan approval", "the card replacement", "the staff at the counter",
                "the wait time", "the callback",
            ),
            "pos": (
                "quick", "fast", "prompt", "speedy", "on the ball", "responsive", "efficient",
                "super quick", "snappy", "immediate", "swift", "helpful",
            ),
            "neg": (
                "slow", "sluggish", "useless", "painfully slow", "unresponsive", "endless",
                "a nightmare", "way too long", "ridiculous", "terrible", "hopeless", "dragging",
            ),
            "pos_ev": (
                "they answered the phone within a minute", "my complaint was sorted in a day",
                "the chat replied straight away", "the new card arrived in two days",
                "someone came to help me right away",
            ),
            "neg_ev": (
                "I waited 40 minutes on hold", "nobody answered my email for a week",
                "I queued for an hour at the branch", "the chat bot just went in circles",
                "my complaint has been open for a month",
                "they kept transferring me between departments",
            ),
        },
        "zh": {
            "subj": (
                "客服热线", "客服", "网点排队", "在线客服", "投诉处理", "呼叫中心", "邮件回复", "贷款审批", "补卡", "柜台", "等待时间",
                "回电",
            ),
            "pos": ("快", "及时", "高效", "迅速", "给力", "利索", "麻利", "很快就好", "效率高", "秒回", "积极", "主动"),
            "neg": (
                "慢", "拖拉", "磨蹭", "慢吞吞", "没反应", "拖沓", "太久", "效率低", "石沉大海", "推来推去", "没人理", "等到天荒地老",
            ),
            "pos_ev": ("电话一分钟内就接通了", "投诉一天就解决了", "在线客服马上就回了", "新卡两天就寄到了", "一进门就有人来帮忙"),
            "neg_ev": (
                "电话等了40分钟", "发邮件一个礼拜没人回", "在网点排了一个小时队", "机器人客服一直在绕圈子", "投诉一个月了还没结果", "被转来转去好几个部门",
            ),
            "mixed_subj": ("hotline", "service", "call centre", "live chat", "complaint"),
        },
    },
    "assurance": {
        "en": {
            "subj": (
                "my relationship manager", "the staff", "the advisor", "the teller",
                "the investment team", "the people at the branch", "the security checks",
                "the mortgage specialist", "your employees", "the phone agent",
                "the wealth advisor", "the fraud team",
            ),
            "pos": (
                "professional", "knowledgeable", "competent", "courteous", "polite", "reassuring",
                "trustworthy", "well trained", "confident", "expert", "safe", "clued up",
            ),
            "neg": (
                "clueless", "rude", "unprofessional", "pushy", "incompetent", "impolite",
                "untrained", "condescending", "unsure", "shady", "careless", "dismissive",
            ),
            "pos_ev": (
                "the advisor really knew the products", "I feel my money is safe here",
                "the staff explained the risks clearly", "the teller was polite throughout",
                "they spotted a fraud attempt before I did",
            ),
            "neg_ev": (
                "the advisor could not answer basic questions",
                "they tried to push a product I did not need",
                "the agent was rude to me on the phone",
                "I was given wrong information about the fees",
                "nobody could explain the investment risks",
            ),
        },
        "zh": {
            "subj": (
                "客户经理", "工作人员", "理财顾问", "柜员", "投资团队", "网点的员工", "安全验证", "房贷专员", "员工", "电话客服", "财富顾问",
                "反诈团队",
            ),
            "pos": ("专业", "懂行", "有礼貌", "客气", "让人放心", "靠得住", "训练有素", "有耐心", "很稳重", "内行", "细致", "可信"),
            "neg": (
                "不专业", "态度差", "外行", "强行推销", "没礼貌", "一问三不知", "敷衍", "居高临下", "马虎", "不靠谱", "冷漠", "含糊其辞",
            ),
            "pos_ev": ("理财顾问对产品非常了解", "把钱放在这里很安心", "工作人员把风险讲得很清楚", "柜员全程都很有礼貌", "他们比我先发现了诈骗"),
            "neg_ev": ("理财顾问连基本问题都答不上来", "硬要推销我不需要的产品", "电话客服对我很凶", "告诉我的收费信息是错的", "没人能解释投资风险"),
            "mixed_subj": ("RM", "staff", "advisor", "teller", "agent"),
        },
    },
    "empathy": {
        "en": {
            "subj": (
                "my relationship manager", "the staff", "the bank", "the opening hours",
                "the service for older customers", "the advice I got", "the team", "your people",
                "the branch manager", "the phone agent", "the personal attention", "the follow-up",
            ),
            "pos": (
                "caring", "attentive", "understanding", "thoughtful", "personal", "kind", "patient",
                "warm", "considerate", "genuine", "supportive", "friendly",
            ),
            "neg": (
                "cold", "impersonal", "indifferent", "robotic", "uncaring", "distant", "inflexible",
                "one size fits all", "careless", "tone deaf", "unhelpful", "heartless",
            ),
            "pos_ev": (
                "they remembered my situation from last time",
                "the staff took time to understand what I needed",
                "they opened late so I could come after work",
                "my RM calls to check how I am doing", "they helped my elderly mother patiently",
            ),
            "neg_ev": (
                "nobody cares about small customers", "I am just a number to them",
                "they never ask what I actually need", "the opening hours suit nobody who works",
                "they treated my father like a nuisance",
            ),
        },
        "zh": {
            "subj": (
                "客户经理", "工作人员", "这家银行", "营业时间", "对老年人的服务", "给我的建议", "团队", "员工", "网点经理", "电话客服",
                "个性化服务", "后续跟进",
            ),
            "pos": ("贴心", "体贴", "用心", "周到", "暖心", "善解人意", "有人情味", "细心", "热情", "真诚", "亲切", "照顾人"),
            "neg": (
                "冷冰冰", "没人情味", "敷衍", "机械", "不在乎客户", "死板", "一刀切", "不耐烦", "爱答不理", "冷漠", "不近人情", "不上心",
            ),
            "pos_ev": (
                "他们还记得我上次的情况", "工作人员花时间了解我的需求", "为了我下班能来特意晚点关门", "客户经理会打电话问候我", "很耐心地帮我妈妈办业务",
            ),
            "neg_ev": ("根本不在乎小客户", "在他们眼里我就是个号码", "从来不问我到底需要什么", "营业时间上班族根本赶不上", "把我爸当成麻烦"),
            "mixed_subj": ("RM", "staff", "service", "team"),
        },
    },
}
_EN_OPEN: Final = (
    "", "", "", "Honestly, ", "Tbh ", "To be fair, ", "Well, ", "I have to say ", "Overall ",
    "Frankly, ", "Not gonna lie, ", "In my experience ", "Lately ", "As a long-time customer, ",
    "So ", "Ok so ",
)
_EN_INT: Final = (
    "", "", "very ", "really ", "super ", "so ", "quite ", "pretty ", "extremely ", "incredibly ",
    "way too ", "totally ", "rather ", "seriously ",
)
_EN_TAIL: Final = (
    "", "", "", " these days", " lately", " this time", " every single time", " as usual",
    " last month", " when I visited", " on the app", " again", " for once", " recently",
    " at the Central branch", " when I called",
)
_EN_CLOSE: Final[dict[str, tuple[str, ...]]] = {
    "positive": (
        "", "", "", " Thanks.", " Keep it up.", " Happy so far.", " Cheers.", " Well done.",
        " Great job!", " 10/10.",
    ),
    "neutral": (
        "", "", "", " That's all.", " Just saying.", " Nothing else.", " Cheers.", " Thanks.",
        " Whatever.",
    ),
    "negative": (
        "", "", "", " Please fix this.", " Sort it out.", " Disappointed.", " Not happy.",
        " Seriously?", " Do better.", " Thinking of leaving.",
    ),
}
_EN_NEUTRAL: Final = (
    "{s} is ok I guess", "{s} is fine, nothing special", "{s} is so-so", "{s} is average",
    "{s} could be better, could be worse", "{s} is alright", "no strong feelings about {s}",
    "{s} is acceptable", "{s} is just normal", "{s} does the job", "{s} is neither good nor bad",
    "{s}: meh",
)
_ZH_OPEN: Final = (
    "", "", "", "说实话，", "讲真，", "老实说", "总的来说", "怎么说呢，", "坦白讲", "个人觉得", "最近", "作为老客户，", "其实",
    "说句公道话，", "嗯，", "我觉得",
)
_ZH_INT: Final = ("", "很", "非常", "特别", "超级", "真的", "挺", "太", "相当", "蛮", "十分", "极其", "贼", "好")
_ZH_TAIL: Final = (
    "", "", "", "，每次都这样", "，上个月也是", "，这次也一样", "，去网点的时候", "，用app的时候", "，打电话的时候", "，最近尤其明显", "，一直都是",
    "，没想到",
)
_ZH_CLOSE: Final[dict[str, tuple[str, ...]]] = {
    "positive": ("", "", "", "", "谢谢。", "继续保持！", "好评！", "给个赞。", "点赞👍", "很满意。"),
    "neutral": ("", "", "", "", "就这样。", "谢谢。", "没别的了。", "哈哈", "随便说说。"),
    "negative": ("", "", "", "", "希望改进。", "赶紧改改吧。", "太失望了。", "无语。", "差评！", "真的想换银行了。"),
}
_ZH_NEUTRAL: Final = (
    "{s}还行吧", "{s}一般般", "{s}马马虎虎", "{s}中规中矩", "{s}说不上好也说不上坏", "{s}凑合", "{s}就那样", "{s}没什么特别的",
    "{s}还可以", "对{s}没什么感觉", "{s}不好不坏", "{s}过得去",
)
_MIXED_ADJ: Final[dict[str, tuple[str, ...]]] = {
    "positive": ("nice", "OK", "professional", "efficient", "smooth", "good", "solid", "friendly"),
    "negative": (
        "laggy", "slow", "terrible", "unprofessional", "buggy", "a mess", "annoying", "so bad",
    ),
    "neutral": ("OK", "so-so", "average", "normal", "fine"),
}
_MIXED_OPEN: Final = ("tbh ", "honestly ", "btw ", "overall ", "", "")
_ZH_TYPO: Final = (
    ('的', '得'), ('在', '再'), ('账', '帐'), ('做', '作'), ('已经', '以经'), ('应该', '因该'), ('那', '哪'),
    ('象', '像'), ('帐', '账'), ('再', '在'),
)
# fmt: on


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[int(u * len(options))]


def _en_typo(text: str, u1: float, u2: float) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = letters[int(u1 * (len(letters) - 1))]
    kind = int(u2 * 4)
    if kind == 0 and i + 1 < len(text):  # swap two adjacent characters
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:  # drop one
        return text[:i] + text[i + 1 :]
    if kind == 2:  # double one
        return text[:i] + text[i] + text[i:]
    return text.lower().rstrip(".")  # careless: lower case, no full stop


def _zh_typo(text: str, u1: float, u2: float) -> str:
    present = [(a, b) for a, b in _ZH_TYPO if a in text]
    if present and u1 < 0.7:
        a, b = present[int(u2 * len(present))]
        return text.replace(a, b, 1)
    return text.replace("。", "", 1) if u2 < 0.5 else text.replace("，", ",")


_EN_PLURAL: Final = frozenset(
    s
    for d in _LEX.values()
    for s in d["en"]["subj"]
    if (s.split()[-1].endswith("s") and not s.endswith("customers")) or "people" in s
)
_EN_AGREE: Final = (
    (" is ", " are "),
    (" isn't", " aren't"),
    (" was ", " were "),
    (" has been ", " have been "),
    (" seems ", " seem "),
    (" does ", " do "),
    (" always is ", " always are "),
)


def _en_clause(lex: dict[str, tuple[str, ...]], sentiment: str, u: np.ndarray) -> str:
    subj = _pick(lex["subj"], u[1])
    text = _en_clause_raw(lex, subj, sentiment, u)
    if subj in _EN_PLURAL:
        for sing, plur in _EN_AGREE:
            text = text.replace(subj + sing, subj + plur, 1)
    return text


def _en_clause_raw(
    lex: dict[str, tuple[str, ...]], subj: str, sentiment: str, u: np.ndarray
) -> str:
    form = u[2]
    if sentiment == "neutral":
        return _pick(_EN_NEUTRAL, u[3]).format(s=subj)
    good = sentiment == "positive"
    if form < 0.25:  # a whole event
        return _pick(lex["pos_ev" if good else "neg_ev"], u[3])
    if form < 0.45:  # negation of the opposite pole
        adj = _pick(lex["neg" if good else "pos"], u[3])
        neg = _pick(
            ("is never", "is not at all", "isn't", "is hardly ever")
            if good
            else ("is not", "isn't exactly", "is not very", "is far from", "is no longer"),
            u[4],
        )
        return f"{subj} {neg} {adj}"
    verb = _pick(("is", "is", "was", "has been", "seems", "always is", "felt"), u[4])
    return f"{subj} {verb} {_pick(_EN_INT, u[5])}{_pick(lex['pos' if good else 'neg'], u[3])}"


def _zh_clause(lex: dict[str, tuple[str, ...]], sentiment: str, u: np.ndarray, mixed: bool) -> str:
    subj = (
        _pick(lex["mixed_subj"], u[1]) + " " if mixed and u[6] < 0.6 else _pick(lex["subj"], u[1])
    )
    form = u[2]
    if sentiment == "neutral":
        if mixed and u[6] >= 0.6:
            return f"{subj} 还算 {_pick(_MIXED_ADJ['neutral'], u[3])}"
        return _pick(_ZH_NEUTRAL, u[3]).format(s=subj)
    good = sentiment == "positive"
    if mixed and u[6] >= 0.6:  # English predicate in a Chinese sentence: "客服 真的 so slow"
        return f"{subj}{_pick(('真的', '很', '超', '有点', '蛮'), u[5])} {_pick(_MIXED_ADJ[sentiment], u[3])}"
    if form < 0.25 and not mixed:
        return _pick(lex["pos_ev" if good else "neg_ev"], u[3])
    if form < 0.45:
        adj = _pick(lex["neg" if good else "pos"], u[3])
        neg = _pick(
            ("一点也不", "从来不", "并不", "完全不")
            if good
            else ("不太", "一点都不", "不怎么", "没那么", "根本不"),
            u[4],
        )
        return f"{subj}{neg}{adj}"
    intens = _pick(_ZH_INT, u[5])
    adj = _pick(lex["pos" if good else "neg"], u[3])
    if intens == "太":
        return f"{subj}太{adj}了"
    return f"{subj}{intens}{adj}"


def compose(dimension: int, sentiment: str, language: str, u: np.ndarray, typo_rate: float) -> str:
    """One verbatim about SERVQUAL ``dimension`` (0–4) in ``language`` (en, zh, mixed).

    ``u`` holds :data:`N_UNIFORMS` uniforms in [0, 1).
    """
    dim = DIMENSIONS[dimension]
    if language == "en":
        lex = _LEX[dim]["en"]
        first = _en_clause(lex, sentiment, u)
        text = _pick(_EN_OPEN, u[0]) + first + _pick(_EN_TAIL, u[7])
        text = text[0].upper() + text[1:]
        text += _pick(
            (".", ".", ".", "!", "!!", "...", " :(" if sentiment == "negative" else "."), u[8]
        )
        if u[9] < 0.35:  # a second sentence on the same dimension and sentiment
            second = _en_clause(lex, sentiment, u[12:])
            text += " " + second[0].upper() + second[1:] + "."
        text += _pick(_EN_CLOSE[sentiment], u[10])
        if u[11] < typo_rate:
            text = _en_typo(text, u[20], u[21])
        return text
    lex = _LEX[dim]["zh"]
    mixed = language == "mixed"
    opener = _pick(_MIXED_OPEN if mixed else _ZH_OPEN, u[0])
    text = opener + _zh_clause(lex, sentiment, u, mixed) + _pick(_ZH_TAIL, u[7])
    text += _pick(("。", "。", "！", "!!", "…", "～", ""), u[8])
    if u[9] < 0.35:
        text += _zh_clause(lex, sentiment, u[12:], mixed=False) + "。"
    text += _pick(_ZH_CLOSE[sentiment], u[10])
    if u[11] < typo_rate:
        text = _zh_typo(text, u[20], u[21])
    return text
