"""Name data and vectorised name construction for the demo world.

Chinese family names carry a realistic frequency skew (the top five cover about a third of
people, as in China's 2020 census) so that namesakes such as 王伟 or 陈静 occur naturally; each has
its Mandarin pinyin and its Hong Kong government (Cantonese) romanisation. Given names are one or
two characters from a gendered pool, also skewed. English given names come with nicknames.

The tables are written out here rather than derived with pypinyin at run time, so that the data
(and so the bytes of a world) cannot change with a dictionary update.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# zh, Mandarin pinyin, HK romanisation, share per mille (mainland), HK multiplier
_FAMILY: Final = """
王 Wang Wong 71 1.0|李 Li Lee 79 1.0|张 Zhang Cheung 71 1.0|刘 Liu Lau 54 1.0|陈 Chen Chan 45 2.4
杨 Yang Yeung 31 0.8|黄 Huang Wong 22 2.6|赵 Zhao Chiu 23 0.5|吴 Wu Ng 20 1.6|周 Zhou Chow 19 1.0
徐 Xu Tsui 17 0.8|孙 Sun Suen 15 0.6|马 Ma Ma 14 0.7|朱 Zhu Chu 13 1.0|胡 Hu Wu 13 1.0
郭 Guo Kwok 12 1.5|何 He Ho 12 2.4|高 Gao Ko 11 0.8|林 Lin Lam 11 2.6|罗 Luo Law 10 1.8
郑 Zheng Cheng 10 1.6|梁 Liang Leung 9 3.5|谢 Xie Tse 8 1.7|宋 Song Sung 8 0.5|唐 Tang Tong 8 1.0
许 Xu Hui 7 1.6|韩 Han Hon 7 0.5|冯 Feng Fung 7 1.8|邓 Deng Tang 7 1.8|曹 Cao Tso 7 0.8
彭 Peng Pang 6 1.2|曾 Zeng Tsang 6 2.5|肖 Xiao Siu 6 1.5|田 Tian Tin 6 0.5|董 Dong Tung 5 1.0
袁 Yuan Yuen 5 1.5|潘 Pan Poon 5 1.6|于 Yu Yu 5 0.6|蒋 Jiang Tseung 5 0.6|蔡 Cai Choi 5 2.5
余 Yu Yu 5 2.0|杜 Du To 5 1.0|叶 Ye Yip 4 3.0|程 Cheng Ching 4 1.0|苏 Su So 4 1.5
魏 Wei Ngai 4 0.8|吕 Lyu Lui 4 2.0|丁 Ding Ting 4 1.0|任 Ren Yam 4 1.0|沈 Shen Shum 4 1.0
姚 Yao Yiu 4 1.0|卢 Lu Lo 4 2.5|姜 Jiang Keung 4 0.8|崔 Cui Tsui 3 0.8|钟 Zhong Chung 3 2.5
谭 Tan Tam 3 3.0|陆 Lu Luk 3 1.5|汪 Wang Wong 3 0.6|范 Fan Fan 3 1.0|金 Jin Kam 3 1.0
石 Shi Shek 3 1.0|廖 Liao Liu 3 2.0|贾 Jia Ka 3 0.5|夏 Xia Ha 3 1.0|韦 Wei Wai 3 1.0
付 Fu Fu 3 0.5|方 Fang Fong 3 2.0|白 Bai Pak 3 1.0|邹 Zou Chau 3 1.5|孟 Meng Mang 3 0.5
熊 Xiong Hung 3 1.0|秦 Qin Chun 3 0.8|邱 Qiu Yau 3 2.0|江 Jiang Kong 3 1.5|尹 Yin Wan 3 1.0
薛 Xue Sit 2 1.5|闫 Yan Yim 2 0.3|段 Duan Tuen 2 0.8|雷 Lei Lui 2 1.0|侯 Hou Hau 2 1.5
龙 Long Lung 2 1.0|史 Shi Sze 2 1.0|陶 Tao To 2 1.0|黎 Li Lai 2 3.0|贺 He Ho 2 0.8
顾 Gu Koo 2 1.5|毛 Mao Mo 2 1.0|郝 Hao Kok 2 0.5|龚 Gong Kung 2 1.5|邵 Shao Shiu 2 1.5
万 Wan Man 2 1.5|钱 Qian Chin 2 1.5|严 Yan Yim 2 2.0|覃 Qin Kam 2 0.5|武 Wu Mo 2 0.8
戴 Dai Tai 2 1.5|莫 Mo Mok 2 4.0|孔 Kong Hung 2 1.0|向 Xiang Heung 2 1.5|汤 Tang Tong 2 2.0
常 Chang Sheung 1 1.0|温 Wen Wan 1 3.0|康 Kang Hong 1 1.0|施 Shi Sze 1 2.0|文 Wen Man 1 3.0
牛 Niu Ngau 1 0.5|樊 Fan Fan 1 0.5|葛 Ge Kot 1 1.0|邢 Xing Ying 1 1.0|安 An On 1 1.0
齐 Qi Chai 1 1.0|易 Yi Yick 1 2.0|乔 Qiao Kiu 1 1.0|伍 Wu Ng 1 4.0|庞 Pang Pong 1 1.5
颜 Yan Ngan 1 2.0|倪 Ni Ngai 1 1.0|庄 Zhuang Chong 1 2.0|聂 Nie Nip 1 1.0|章 Zhang Cheung 1 1.0
鲁 Lu Lo 1 1.0|岳 Yue Ngok 1 1.0|翟 Zhai Chak 1 1.0|殷 Yin Yan 1 1.0|詹 Zhan Chim 1 2.0
麦 Mai Mak 0.3 30|区 Ou Au 0.2 30|关 Guan Kwan 0.5 8|卫 Wei Wai 0.3 5|甘 Gan Kam 0.3 6
邝 Kuang Kwong 0.2 20|霍 Huo Fok 0.3 8|骆 Luo Lok 0.3 6|鲍 Bao Pau 0.3 4|利 Li Lee 0.1 10
欧阳 Ouyang Au-Yeung 0.5 4|司徒 Situ Szeto 0.2 15|上官 Shangguan Sheung-Kwun 0.05 2|诸葛 Zhuge Chu-Kot 0.05 2
"""

# zh:pinyin:HK romanisation:gender pool (M, F or U for either); earlier = more common
_GIVEN: Final = """
伟:wei:wai:M 静:jing:ching:F 敏:min:man:U 丽:li:lai:F 强:qiang:keung:M 磊:lei:lui:M 军:jun:kwan:M
洋:yang:yeung:M 勇:yong:yung:M 艳:yan:yim:F 杰:jie:kit:M 娟:juan:kuen:F 涛:tao:to:M 明:ming:ming:U
超:chao:chiu:M 秀:xiu:sau:F 霞:xia:ha:F 平:ping:ping:U 刚:gang:kong:M 桂:gui:kwai:F 芳:fang:fong:F
华:hua:wah:U 文:wen:man:U 国:guo:kwok:M 建:jian:kin:M 志:zhi:chi:M 俊:jun:chun:M 嘉:jia:ka:U
家:jia:ka:U 思:si:sze:F 美:mei:mei:F 玲:ling:ling:F 晓:xiao:hiu:U 小:xiao:siu:U 大:da:tai:M
子:zi:tsz:U 宇:yu:yu:M 浩:hao:ho:M 健:jian:kin:M 永:yong:wing:M 振:zhen:chun:M 海:hai:hoi:M
天:tian:tin:M 德:de:tak:M 宏:hong:wang:M 辉:hui:fai:M 东:dong:tung:M 峰:feng:fung:M 鹏:peng:pang:M
斌:bin:pun:M 波:bo:po:M 琳:lin:lam:F 欣:xin:yan:F 怡:yi:yi:F 颖:ying:wing:F 慧:hui:wai:F
佳:jia:kai:U 雅:ya:nga:F 琪:qi:kei:F 婉:wan:yuen:F 淑:shu:suk:F 英:ying:ying:F 凤:feng:fung:F
燕:yan:yin:F 红:hong:hung:F 梅:mei:mui:F 兰:lan:lan:F 莉:li:lei:F 萍:ping:ping:F 月:yue:yuet:F
春:chun:chun:U 秋:qiu:chau:F 冬:dong:tung:U 安:an:on:U 宁:ning:ning:U 昊:hao:ho:M 然:ran:yin:U
轩:xuan:hin:M 梓:zi:tsz:U 涵:han:ham:F 诗:shi:sze:F 晴:qing:ching:F 乐:le:lok:U 心:xin:sum:F
玉:yu:yuk:F 珠:zhu:chu:F 宝:bao:po:U 金:jin:kam:U 福:fu:fuk:M 贵:gui:kwai:M 荣:rong:wing:M
光:guang:kwong:M 耀:yao:yiu:M 祖:zu:cho:M 锦:jin:kam:U 卓:zhuo:cheuk:U 智:zhi:chi:M 仁:ren:yan:M
礼:li:lai:M 信:xin:shun:M 忠:zhong:chung:M 诚:cheng:shing:M 成:cheng:shing:M 达:da:tat:M 发:fa:fat:M
富:fu:fu:M 泰:tai:tai:M 善:shan:sin:U 淇:qi:kei:F 朗:lang:long:M 霖:lin:lam:U 彬:bin:pan:M
彤:tong:tung:F 蕾:lei:lui:F 薇:wei:mei:F 蓉:rong:yung:F 芬:fen:fan:F 芷:zhi:tsz:F 倩:qian:sin:F
瑞:rui:sui:U 祥:xiang:cheung:M 龙:long:lung:M 凯:kai:hoi:M 博:bo:pok:M 武:wu:mo:M 新:xin:san:U
立:li:lap:M 林:lin:lam:U 森:sen:sum:M 楠:nan:nam:U 柏:bai:pak:M 松:song:chung:M 山:shan:shan:M
川:chuan:chuen:M 江:jiang:kong:M 河:he:ho:M 泽:ze:chak:M 润:run:yun:U 清:qing:ching:U 源:yuan:yuen:M
鑫:xin:yam:U 钰:yu:yuk:F 铭:ming:ming:M 锋:feng:fung:M 瑶:yao:yiu:F 琦:qi:kei:F 璐:lu:lo:F
瑜:yu:yu:F 珊:shan:shan:F 璇:xuan:suen:F 晶:jing:ching:F 昕:xin:yan:U 晨:chen:sun:U 曦:xi:hei:F
阳:yang:yeung:M 旭:xu:yuk:M 星:xing:sing:U 云:yun:wan:U 雨:yu:yu:F 雷:lei:lui:M 霆:ting:ting:M
飞:fei:fei:M 翔:xiang:cheung:M 鸿:hong:hung:M 鹤:he:hok:M 莹:ying:ying:F 萱:xuan:huen:F 蓝:lan:lam:F
紫:zi:tsz:F 青:qing:ching:U 丹:dan:tan:F 彩:cai:choi:F 娜:na:na:F 妍:yan:yin:F 娇:jiao:kiu:F
媛:yuan:wun:F 姗:shan:shan:F 嫣:yan:yin:F 婕:jie:chit:F 宜:yi:yi:U 定:ding:ting:M 实:shi:sat:M
守:shou:sau:M 宗:zong:chung:M 中:zhong:chung:M 正:zheng:ching:M 民:min:man:M 生:sheng:sang:M
力:li:lik:M 勤:qin:kan:U 玮:wei:wai:U 维:wei:wai:M 伦:lun:lun:M 冠:guan:kwun:M 汉:han:hon:M
基:ji:kei:M 良:liang:leung:M 佩:pei:pui:F 碧:bi:pik:F 翠:cui:chui:F 惠:hui:wai:F 琼:qiong:king:F
娥:e:ngo:F 群:qun:kwan:U 展:zhan:chin:M 鸣:ming:ming:M 世:shi:sai:M 柱:zhu:chu:M 坤:kun:kwan:M
键:jian:kin:M 铮:zheng:tsang:M 懿:yi:yi:F 诺:nuo:nok:U 一:yi:yat:U 依:yi:yi:F 亦:yi:yik:U
若:ruo:yeuk:F 梦:meng:mung:F 可:ke:ho:F 馨:xin:hing:F 逸:yi:yat:U 皓:hao:ho:M 泓:hong:wang:M
睿:rui:yui:M 晋:jin:chun:M 颢:hao:ho:M 彦:yan:yin:M 宸:chen:san:M 煜:yu:yuk:M 骏:jun:chun:M
峻:jun:chun:M 毅:yi:ngai:M 伯:bo:pak:M 仲:zhong:chung:M 雯:wen:man:F 洁:jie:kit:F 丽:li:lai:F
蕙:hui:wai:F 慈:ci:chi:F 爱:ai:oi:F 巧:qiao:hau:F 素:su:so:F 桦:hua:wah:U 翰:han:hon:M
"""

# English given name, gender, nicknames (comma separated, may be empty); earlier = more common
_ENGLISH: Final = """
James M Jim,Jimmy,Jamie|John M Johnny,Jack|Robert M Bob,Rob,Bobby|Michael M Mike,Mick|William M Bill,Will,Billy
David M Dave|Richard M Rick,Richie,Dick|Thomas M Tom,Tommy|Charles M Charlie,Chuck|Christopher M Chris
Daniel M Dan,Danny|Matthew M Matt|Anthony M Tony|Joseph M Joe,Joey|Andrew M Andy,Drew
Edward M Ed,Eddie,Ted|Benjamin M Ben|Samuel M Sam|Alexander M Alex,Sandy|Nicholas M Nick
Jonathan M Jon|Timothy M Tim|Stephen M Steve|Peter M Pete|Patrick M Pat|Kenneth M Ken,Kenny
Raymond M Ray|Vincent M Vince|Gregory M Greg|Jeffrey M Jeff|Lawrence M Larry|Ronald M Ron,Ronnie
Donald M Don|Henry M Harry,Hank|Frederick M Fred,Freddie|Philip M Phil|Joshua M Josh|Nathan M Nate
Zachary M Zach|Oliver M Ollie|Leonard M Leo,Len|Albert M Al,Bert|Francis M Frank|Victor M Vic
Douglas M Doug|Terence M Terry|Kevin M Kev|Calvin M Cal|Eric M |Jason M |Kelvin M |Alan M
Elizabeth F Liz,Beth,Betty|Katherine F Kate,Kathy,Katie|Margaret F Maggie,Peggy,Meg|Jennifer F Jen,Jenny
Patricia F Pat,Trish|Susan F Sue,Suzy|Deborah F Debbie,Deb|Rebecca F Becky,Becca|Jessica F Jess,Jessie
Victoria F Vicky,Tori|Christine F Chris,Tina|Samantha F Sam|Alexandra F Alex,Lexi|Abigail F Abby
Amanda F Mandy|Barbara F Barb|Dorothy F Dot,Dottie|Emily F Em,Emmy|Josephine F Jo,Josie|Judith F Judy
Pamela F Pam|Stephanie F Steph|Theresa F Tessa,Tess|Valerie F Val|Cynthia F Cindy|Kimberly F Kim
Natalie F Nat|Olivia F Liv|Charlotte F Lottie,Charlie|Eleanor F Ellie,Nell|Isabella F Bella,Izzy
Sophia F Sophie|Angela F Angie|Caroline F Carrie|Gillian F Jill|Jacqueline F Jackie|Winifred F Winnie
Veronica F Ronnie|Florence F Flo|Catherine F Cathy,Cat|Grace F |Vivian F Viv|Karen F |Fiona F |Helen F
Joyce F |Iris F |Cherry F |Ivy F |Queenie F |Candy F |Kelly F |Emma F Em
"""

_WESTERN_FAMILY: Final = """
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright
Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill
Ward Morris Moore Clark King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker
Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy
Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Wilkinson Foster Chapman Powell
Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight
Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Nguyen O'Brien MacDonald
"""


def _zipf(n: int, s: float = 1.0, q: float = 2.0) -> np.ndarray:
    w = 1.0 / (np.arange(n) + q) ** s
    return w / w.sum()


def _obj(values: list[str] | tuple[str, ...]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _parse_family() -> tuple[np.ndarray, ...]:
    rows = [r.split() for r in _FAMILY.replace("\n", "|").split("|") if r.strip()]
    zh = _obj([r[0] for r in rows])
    py = _obj([r[1] for r in rows])
    yue = _obj([r[2].replace("-", " ") if r[0] != "欧阳" else r[2] for r in rows])
    cn = np.array([float(r[3]) for r in rows])
    hk = cn * np.array([float(r[4]) for r in rows])
    return zh, py, yue, cn / cn.sum(), hk / hk.sum()


def _parse_given() -> tuple[np.ndarray, ...]:
    seen: set[str] = set()
    rows = []
    for tok in _GIVEN.split():
        ch, py, yue, sex = tok.split(":")
        if ch not in seen:
            seen.add(ch)
            rows.append((ch, py, yue, sex))
    return (
        _obj([r[0] for r in rows]),
        _obj([r[1] for r in rows]),
        _obj([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
    )


def _parse_english() -> tuple[np.ndarray, np.ndarray, list[tuple[str, ...]]]:
    rows = [r.split(" ", 2) for r in _ENGLISH.replace("\n", "|").split("|") if r.strip()]
    names = _obj([r[0] for r in rows])
    sex = np.array([r[1] for r in rows])
    nicks = [tuple(n for n in r[2].strip().split(",") if n) if len(r) > 2 else () for r in rows]
    return names, sex, nicks


FAMILY_ZH, FAMILY_PINYIN, FAMILY_HK, FAMILY_P_CN, FAMILY_P_HK = _parse_family()
GIVEN_ZH, GIVEN_PINYIN, GIVEN_HK, GIVEN_SEX = _parse_given()
ENGLISH, ENGLISH_SEX, NICKNAMES = _parse_english()
WESTERN_FAMILY = _obj(_WESTERN_FAMILY.split())

# Singapore's Chinese mostly write their surname in its Hokkien (or Teochew) reading: 陈 Tan, 林 Lim,
# 黄 Ng/Wee/Ooi, 吴 Goh, 王 Ong/Heng, 张 Teo, 许 Koh … (zh, romanisation, share per mille of
# Singapore Chinese). Given names follow in pinyin syllables, capitalised and spaced: "Tan Wei Ming".
_HOKKIEN: Final = """
陈 Tan 108|林 Lim 70|李 Lee 60|黄 Ng 40|黄 Wee 10|黄 Ooi 5|王 Ong 30|王 Heng 8|吴 Goh 25|蔡 Chua 20
许 Koh 20|张 Teo 20|杨 Yeo 15|郑 Tay 15|何 Ho 15|刘 Low 13|谢 Chia 10|谢 Seah 5|沈 Sim 10|郭 Quek 8
梁 Neo 8|邱 Khoo 8|周 Chew 8|苏 Soh 7|叶 Yap 7|罗 Loh 6|徐 Chee 5|朱 Choo 4|庄 Chng 4|胡 Ow 3
江 Kang 3|彭 Phang 3|曾 Chan 3|钟 Cheng 3|方 Png 2|孙 Soon 2|卢 Loo 2|颜 Gan 2
"""


def _parse_hokkien() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [r.split() for r in _HOKKIEN.replace("\n", "|").split("|") if r.strip()]
    zh = list(FAMILY_ZH)
    family = np.array([zh.index(r[0]) for r in rows])
    w = np.array([float(r[2]) for r in rows])
    return family, _obj([r[1] for r in rows]), w / w.sum()


HOKKIEN_FAMILY, HOKKIEN_NAME, HOKKIEN_P = _parse_hokkien()

NICK_COUNT = np.array([len(n) for n in NICKNAMES])
_NICK_TABLE = np.full((len(NICKNAMES), max(1, int(NICK_COUNT.max()))), None, dtype=object)
for _i, _n in enumerate(NICKNAMES):
    _NICK_TABLE[_i, : len(_n)] = _n

_GIVEN_PINYIN_CAP = _obj([p.capitalize() for p in GIVEN_PINYIN])


def _key(values: np.ndarray) -> np.ndarray:
    """Lower case without spaces, hyphens or apostrophes: the form e-mail local parts use."""
    return _obj([v.lower().replace(" ", "").replace("-", "").replace("'", "") for v in values])


_FAMILY_PINYIN_KEY = _key(FAMILY_PINYIN)
_FAMILY_HK_KEY = _key(FAMILY_HK)
_WESTERN_KEY = _key(WESTERN_FAMILY)
_ENGLISH_KEY = _key(ENGLISH)
_GIVEN_HK_CAP = _obj([p.capitalize() for p in GIVEN_HK])

# Homophones among given-name characters (same toneless pinyin): the typical input-method slip.
_by_sound: dict[str, list[int]] = {}
for _i, _p in enumerate(GIVEN_PINYIN):
    _by_sound.setdefault(_p, []).append(_i)
HOMOPHONES: Final[dict[str, tuple[str, ...]]] = {
    str(GIVEN_ZH[i]): tuple(str(GIVEN_ZH[j]) for j in idx if j != i)
    for idx in _by_sound.values()
    if len(idx) > 1
    for i in idx
}
ALL_GIVEN_CHARS: Final = tuple(str(c) for c in GIVEN_ZH)


def _pool_probs(sex: str) -> np.ndarray:
    ok = (sex == GIVEN_SEX) | (GIVEN_SEX == "U")
    w = np.zeros(len(GIVEN_SEX))
    idx = np.flatnonzero(ok)
    w[idx] = _zipf(idx.size, s=0.9, q=4.0)
    return w / w.sum()


def _eng_probs(sex: str) -> np.ndarray:
    idx = np.flatnonzero(sex == ENGLISH_SEX)
    w = np.zeros(len(ENGLISH))
    w[idx] = _zipf(idx.size, s=0.7, q=3.0)
    return w / w.sum()


_GIVEN_P = {"F": _pool_probs("F"), "M": _pool_probs("M")}
_ENG_P = {"F": _eng_probs("F"), "M": _eng_probs("M")}
_WEST_P = _zipf(len(WESTERN_FAMILY), s=0.8, q=3.0)

ROMAN_PINYIN: Final = 0
ROMAN_HK: Final = 1
ROMAN_WESTERN: Final = 2
ROMAN_HOKKIEN: Final = 3


def _by_gender(
    rng: np.random.Generator, female: np.ndarray, probs: dict[str, np.ndarray]
) -> np.ndarray:
    n = female.size
    out = rng.choice(probs["M"].size, size=n, p=probs["M"])
    f = np.flatnonzero(female)
    out[f] = rng.choice(probs["F"].size, size=f.size, p=probs["F"])
    return out


_S = pa.string()
_NULL = pa.scalar(None, _S)
_NO_CHAR: Final = len(GIVEN_ZH)  # index of the empty second character


def _a(values: np.ndarray | list[str], extra: tuple[str, ...] = ()) -> pa.Array:
    return pa.array([*(str(v) if v is not None else None for v in values), *extra], _S)


_A_FAMILY_ZH = _a(FAMILY_ZH)
_A_FAMILY_PY = _a(FAMILY_PINYIN)
_A_FAMILY_HK = _a(FAMILY_HK)
_A_FAMILY_PY_KEY = _a(_FAMILY_PINYIN_KEY)
_A_FAMILY_HK_KEY = _a(_FAMILY_HK_KEY)
_A_WESTERN = _a(WESTERN_FAMILY)
_A_WESTERN_KEY = _a(_WESTERN_KEY)
_A_ENGLISH = _a(ENGLISH)
_A_ENGLISH_KEY = _a(_ENGLISH_KEY)
_A_NICKS = _a(list(_NICK_TABLE.ravel()))
_A_GIVEN_ZH = _a(GIVEN_ZH)
_A_GIVEN_ZH_2 = _a(GIVEN_ZH, ("",))
_A_GIVEN_PY = _a(GIVEN_PINYIN)
_A_GIVEN_PY_CAP = _a(_GIVEN_PINYIN_CAP)
_A_GIVEN_PY_2 = _a(GIVEN_PINYIN, ("",))
_A_GIVEN_HK = _a(GIVEN_HK)
_A_GIVEN_HK_CAP = _a(_GIVEN_HK_CAP)
_A_GIVEN_HK_2 = _a([" " + str(v) for v in _GIVEN_HK_CAP], ("",))
_A_GIVEN_HK_2K = _a(GIVEN_HK, ("",))
_A_GIVEN_PY_SPACED_2 = _a([" " + str(v) for v in _GIVEN_PINYIN_CAP], ("",))
_A_HOKKIEN = _a(HOKKIEN_NAME)
_A_HOKKIEN_KEY = _a(_key(HOKKIEN_NAME))


StrColumn: TypeAlias = np.ndarray | pa.Array | pa.ChunkedArray


def equal(values: StrColumn, value: str) -> np.ndarray:
    """``values == value`` as a numpy bool array (False where null) for numpy object arrays or,
    faster (no Python string per row), Arrow string arrays."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return np.asarray(
            pc.fill_null(pc.equal(values, value), False).to_numpy(zero_copy_only=False), dtype=bool
        )
    return np.asarray(values == value, dtype=bool)


def _arr(mask: np.ndarray) -> pa.Array:
    return pa.array(mask, pa.bool_())


def _idx(idx: np.ndarray, null: np.ndarray) -> pa.Array:
    """Take indices, null where ``null`` (the take gives null there)."""
    return pa.array(idx, pa.int64(), mask=null)


def _join(a: pa.Array, b: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(a, b, "")


def _choose(
    roman: np.ndarray, pinyin: pa.Array, hk: pa.Array, western: pa.Array, hokkien: pa.Array
) -> pa.Array:
    """Per person, the value for their romanisation (0 pinyin, 1 Hong Kong, 2 Western, 3 Hokkien)."""
    return pc.choose(pa.array(roman, pa.int8()), pinyin, hk, western, hokkien)


def build_names(
    rng: np.random.Generator,
    market: StrColumn,
    city: StrColumn,
    female: np.ndarray,
    age: np.ndarray,
    head: np.ndarray,
) -> dict[str, Any]:
    """Names for one chunk of persons; ``head`` is each person's household head (row index).

    Returns Arrow string arrays (null where absent): the ground-truth columns ``family_name_zh``,
    ``given_name_zh``, ``family_name_latin``, ``given_name_latin``, ``english_name``, and the
    variants the noise model draws on: ``family_pinyin``/``given_pinyin``, ``family_hk``/
    ``given_hk`` (Cantonese), ``nickname`` (one per person whose English name has any),
    ``family_hokkien``/``given_hokkien`` (Singapore's dialect rendering, null for others),
    ``roman`` (0 pinyin, 1 Hong Kong, 2 Western name, 3 Hokkien) and lower-case ``family_key``,
    ``given_key`` and ``english_key`` ("" if none) for e-mail addresses.
    """
    n = len(market)
    u = rng.random((6, n))
    sg = equal(city, "Singapore")
    # Romanisation / origin: EN markets mix Western persons and the Chinese diaspora.
    west_share = np.where(sg, 0.25, 0.7)
    roman = np.where(equal(market, "HK"), ROMAN_HK, ROMAN_PINYIN)
    en = equal(market, "EN")
    # The diaspora: in Singapore 60 % Hokkien surnames (Tan, Lim, Ng …), 25 % pinyin, 15 %
    # Cantonese; in London and Sydney half pinyin, half Cantonese.
    diaspora = np.where(
        sg,
        np.where(u[1] < 0.6, ROMAN_HOKKIEN, np.where(u[1] < 0.85, ROMAN_PINYIN, ROMAN_HK)),
        np.where(u[1] < 0.5, ROMAN_HK, ROMAN_PINYIN),
    )
    roman = np.where(en, np.where(u[0] < west_share, ROMAN_WESTERN, diaspora), roman)
    # A household member shares the head's surname half the time (a child); Western families
    # more often. Spouses of mixed origin are not modelled: members follow the head's origin.
    is_member = head != np.arange(n)
    roman = np.where(is_member, roman[head], roman)
    chinese = roman != ROMAN_WESTERN

    fam_cn = rng.choice(FAMILY_ZH.size, size=n, p=FAMILY_P_CN)
    fam_hk = rng.choice(FAMILY_ZH.size, size=n, p=FAMILY_P_HK)
    hok = rng.choice(HOKKIEN_NAME.size, size=n, p=HOKKIEN_P)
    is_hok = roman == ROMAN_HOKKIEN
    fam = np.where(roman == ROMAN_HK, fam_hk, np.where(is_hok, HOKKIEN_FAMILY[hok], fam_cn))
    west = rng.choice(WESTERN_FAMILY.size, size=n, p=_WEST_P)
    share = is_member & (u[2] < np.where(chinese, 0.5, 0.8))
    fam = np.where(share, fam[head], fam)
    west = np.where(share, west[head], west)
    hok = np.where(share, hok[head], hok)

    g1 = _by_gender(rng, female, _GIVEN_P)
    g2 = _by_gender(rng, female, _GIVEN_P)
    p_single = np.where((roman == ROMAN_HK) | is_hok, 0.08, np.where(age >= 45, 0.25, 0.15))
    single = u[3] < p_single
    eng = _by_gender(rng, female, _ENG_P)

    # Strings are assembled with Arrow (takes from the small name tables and element-wise
    # joins), never as Python objects per person.
    g2_or_none = np.where(single, _NO_CHAR, g2)
    zh_mask = ~chinese
    family_zh = _A_FAMILY_ZH.take(_idx(fam, zh_mask))
    given_zh = _join(_A_GIVEN_ZH.take(g1), _A_GIVEN_ZH_2.take(g2_or_none))
    given_zh = pc.if_else(_arr(chinese), given_zh, _NULL)
    given_py = _join(_A_GIVEN_PY_CAP.take(g1), _A_GIVEN_PY_2.take(g2_or_none))
    given_hk = _join(_A_GIVEN_HK_CAP.take(g1), _A_GIVEN_HK_2.take(g2_or_none))
    family_py = _A_FAMILY_PY.take(fam)
    family_hk = _A_FAMILY_HK.take(fam)
    family_hok = _A_HOKKIEN.take(hok)
    given_hok = _join(_A_GIVEN_PY_CAP.take(g1), _A_GIVEN_PY_SPACED_2.take(g2_or_none))

    p_eng = np.where(
        (roman == ROMAN_HK) | is_hok,
        np.where(en, 0.85, 0.65),
        np.where(en, 0.8, np.clip(0.25 - 0.005 * (age - 18), 0.03, 0.25)),
    )
    has_eng = chinese & (u[4] < p_eng)
    english = _A_ENGLISH.take(_idx(eng, ~has_eng))
    west_name = _A_WESTERN.take(west)
    eng_name = _A_ENGLISH.take(eng)
    family_latin = _choose(roman, family_py, family_hk, west_name, family_hok)
    given_latin = _choose(roman, given_py, given_hk, eng_name, given_hok)
    # One nickname per person who has an English name with nicknames.
    has_first = has_eng | ~chinese
    nick_n = NICK_COUNT[eng]
    col = np.minimum((u[5] * nick_n).astype(np.int64), np.maximum(nick_n - 1, 0))
    nickname = _A_NICKS.take(_idx(eng * _NICK_TABLE.shape[1] + col, ~(has_first & (nick_n > 0))))
    hk_key = _join(_A_GIVEN_HK.take(g1), _A_GIVEN_HK_2K.take(g2_or_none))
    py_key = _join(_A_GIVEN_PY.take(g1), _A_GIVEN_PY_2.take(g2_or_none))
    family_key = _choose(
        roman,
        _A_FAMILY_PY_KEY.take(fam),
        _A_FAMILY_HK_KEY.take(fam),
        _A_WESTERN_KEY.take(west),
        _A_HOKKIEN_KEY.take(hok),
    )
    given_key = _choose(roman, py_key, hk_key, _A_ENGLISH_KEY.take(eng), py_key)
    hok_arr = _arr(is_hok)
    chin = _arr(chinese)
    return {
        "family_name_zh": family_zh,
        "given_name_zh": given_zh,
        "family_name_latin": family_latin,
        "given_name_latin": given_latin,
        "english_name": english,
        "family_pinyin": pc.if_else(chin, family_py, family_latin),
        "given_pinyin": pc.if_else(chin, given_py, given_latin),
        "family_hk": pc.if_else(chin, family_hk, family_latin),
        "given_hk": pc.if_else(chin, given_hk, given_latin),
        "family_hokkien": pc.if_else(hok_arr, family_hok, _NULL),
        "given_hokkien": pc.if_else(hok_arr, given_hok, _NULL),
        "nickname": nickname,
        "roman": roman,
        "family_key": family_key,
        "given_key": given_key,
        "english_key": pc.if_else(_arr(has_eng), _A_ENGLISH_KEY.take(eng), ""),
    }
