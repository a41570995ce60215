"""Ready-made pieces for the survey builder: a starter survey and one snippet per question type."""

from __future__ import annotations

from typing import Final

from cxo.vocabulary import N_

STARTER: Final = """\
# A survey: pages of questions. `use:` takes items from the instrument library.
code: my_survey
title: {en: "Tell us about your experience", zh_CN: "请告诉我们您的体验"}
intro:
  en: "It takes about five minutes. Your answers are saved page by page."
  zh_CN: "大约需要五分钟。您的回答会逐页保存。"
thanks: {en: "Thank you for your answers!", zh_CN: "感谢您的回答！"}
locales: [en, zh_CN]
pages:
  - title: {en: "Service quality", zh_CN: "服务质量"}
    questions:
      - use: servqual            # 22 items; importance and performance
        randomize_rows: true
  - title: {en: "Overall", zh_CN: "总体评价"}
    questions:
      - use: nps
        required: true
      - use: csat
  - questions:
      - code: what_went_wrong
        type: text
        text: {en: "What should we fix first?", zh_CN: "您认为我们最应该先改进什么？"}
        show_if: {question: nps, op: le, value: 6}
      - use: comment
"""

# (label, YAML to append under a page's `questions:`)
SNIPPETS: Final[tuple[tuple[str, str], ...]] = (
    (
        N_("Single choice"),
        """      - code: visit_reason
        type: single
        required: true
        text: {en: "Why did you contact us?", zh_CN: "您联系我们的原因是什么？"}
        options:
          - {value: 1, label: {en: "A question", zh_CN: "咨询"}}
          - {value: 2, label: {en: "A problem", zh_CN: "问题"}}
          - {value: 3, label: {en: "Something else", zh_CN: "其他"}}
""",
    ),
    (
        N_("Multiple choice"),
        """      - code: channels_used
        type: multiple
        max_choices: 3
        text: {en: "Which channels did you use?", zh_CN: "您使用了哪些渠道？"}
        options:
          - {value: 1, label: {en: "Branch", zh_CN: "网点"}}
          - {value: 2, label: {en: "Phone", zh_CN: "电话"}}
          - {value: 3, label: {en: "App", zh_CN: "手机银行"}}
          - {value: 4, label: {en: "Web", zh_CN: "网上银行"}}
""",
    ),
    (
        N_("Rating"),
        """      - code: staff_rating
        type: rating
        min: 1
        max: 5
        text: {en: "How would you rate our staff?", zh_CN: "您如何评价我们的员工？"}
        labels:
          1: {en: "Poor", zh_CN: "差"}
          5: {en: "Excellent", zh_CN: "优秀"}
""",
    ),
    (
        N_("Matrix"),
        """      - code: branch_matrix
        type: matrix
        min: 1
        max: 5
        text: {en: "How do you rate the branch on…", zh_CN: "您如何评价网点的……"}
        labels:
          1: {en: "Poor", zh_CN: "差"}
          5: {en: "Excellent", zh_CN: "优秀"}
        rows:
          - {code: branch_wait, text: {en: "Waiting time", zh_CN: "等候时间"}}
          - {code: branch_clean, text: {en: "Cleanliness", zh_CN: "整洁程度"}}
""",
    ),
    (
        N_("Slider"),
        """      - code: effort_pct
        type: slider
        min: 0
        max: 100
        step: 5
        text: {en: "How much of your banking is with us (%)?", zh_CN: "您的银行业务中有多少比例在我行（%）？"}
""",
    ),
    (
        N_("Free text"),
        """      - code: suggestion
        type: text
        max_length: 2000
        text: {en: "Any suggestion?", zh_CN: "您有什么建议？"}
""",
    ),
    (
        N_("Skip logic"),
        """        show_if: {question: nps, op: le, value: 6}
""",
    ),
)


def starter() -> str:
    return STARTER
