"""The vocabulary the synthetic city is drawn from: invented place words, themes, unit names,
menu items and request summaries (no real roster, no real person)."""

from __future__ import annotations

SUBDISTRICT_NAMES = ("北城街道", "南城街道", "东城街道", "西城街道", "新区街道")
COMMUNITY_WORDS = [
    "新原",
    "康乐",
    "和平",
    "建设",
    "团结",
    "幸福",
    "永康",
    "文昌",
    "育才",
    "朝阳",
    "平安",
    "和谐",
    "兴业",
    "阳光",
    "惠民",
    "振华",
    "长安",
    "同心",
    "丰收",
    "清泉",
    "南关",
    "北关",
    "东街",
    "西街",
]
THEMES = (
    "学习党章党规",
    "志愿服务月",
    "文明城市创建",
    "法治宣传进社区",
    "安全生产月",
    "科普宣传",
    "垃圾分类",
    "邻里互助",
    "红色文化教育",
    "敬老助老",
    "平安社区建设",
    "冬季送温暖",
)
UNIT_SUFFIXES = (
    ("agency", ("局", "办公室", "中心")),
    ("enterprise", ("有限公司", "集团", "供电公司", "燃气公司")),
    ("institution", ("医院", "中学", "小学", "卫生院", "图书馆")),
    ("two_new", ("物业服务公司", "律师事务所", "社会工作服务社")),
    ("other", ("协会",)),
)
OFFERS = (
    "义诊",
    "法律咨询",
    "家电维修",
    "政策宣讲",
    "课业辅导",
    "场地开放",
    "文艺演出",
    "技能培训",
)
NEEDS = (
    "老年助餐",
    "楼道照明",
    "停车位",
    "健身场地",
    "心理疏导",
    "防汛物资",
    "网格巡查",
    "助残服务",
)
REQUEST_CATEGORIES = ("环境卫生", "设施维修", "停车管理", "邻里纠纷", "政策咨询", "安全隐患")
REQUEST_SUMMARIES = (
    "楼道照明损坏",
    "小区绿地需修剪",
    "路面积水",
    "车辆占用消防通道",
    "相邻住户噪音",
    "咨询社保办理",
    "单元门禁故障",
    "电动车楼道充电",
)

KIND_LABEL = {
    "themed_activity": "主题党日",
    "volunteer_service": "志愿服务",
    "eight_into": "八进",
    "registration": "报到",
}
