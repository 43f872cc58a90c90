"""Name parts and texts the demo generator combines. Pairs are (Chinese, English)."""

from __future__ import annotations

# --- The org tree ----------------------------------------------------------------------------------
# (code, username key, Chinese name, English name, market type, offices)
# offices: (code, username key, Chinese city, English city, market type)
REGIONS = (
    (
        "EAST",
        "east",
        "华东地区部",
        "East China Region",
        "MATURE",
        (
            ("SH", "sh", "上海", "Shanghai", "MATURE"),
            ("HZ", "hz", "杭州", "Hangzhou", "MATURE"),
            ("NJ", "nj", "南京", "Nanjing", "NEW"),
        ),
    ),
    (
        "SOUTH",
        "south",
        "华南地区部",
        "South China Region",
        "MATURE",
        (
            ("GZ", "gz", "广州", "Guangzhou", "MATURE"),
            ("SZ", "sz", "深圳", "Shenzhen", "MATURE"),
            ("FZ", "fz", "福州", "Fuzhou", "NEW"),
        ),
    ),
    (
        "NORTH",
        "north",
        "华北地区部",
        "North China Region",
        "MATURE",
        (
            ("BJ", "bj", "北京", "Beijing", "MATURE"),
            ("TJ", "tj", "天津", "Tianjin", "NEW"),
            ("JN", "jn", "济南", "Jinan", "NEW"),
        ),
    ),
    (
        "WEST",
        "west",
        "西部地区部",
        "West China Region",
        "NEW",
        (
            ("CD", "cd", "成都", "Chengdu", "NEW"),
            ("XA", "xa", "西安", "Xi'an", "NEW"),
            ("CQ", "cq", "重庆", "Chongqing", "BREAKTHROUGH"),
        ),
    ),
    (
        "INTL",
        "intl",
        "海外地区部",
        "International Region",
        "BREAKTHROUGH",
        (
            ("SG", "sg", "新加坡", "Singapore", "NEW"),
            ("DXB", "dxb", "迪拜", "Dubai", "BREAKTHROUGH"),
            ("FRA", "fra", "法兰克福", "Frankfurt", "BREAKTHROUGH"),
        ),
    ),
)

# (code, username key, Chinese suffix, English suffix, industries served, market type shift)
ACCOUNT_DEPTS = (
    ("CARRIER", "carrier", "运营商系统部", "Carrier Account Dept", ("TELECOM",)),
    (
        "GOV",
        "gov",
        "政企系统部",
        "Government & Enterprise Account Dept",
        ("GOVERNMENT", "TRANSPORT", "EDUCATION", "HEALTHCARE", "MANUFACTURING"),
    ),
    ("FIN", "fin", "金融系统部", "Finance Account Dept", ("FINANCE", "INTERNET", "RETAIL")),
    ("ENERGY", "energy", "能源系统部", "Energy Account Dept", ("ENERGY",)),
)

# --- Customers -----------------------------------------------------------------------------------
# (brand zh, brand en, industry, ((suffix zh, suffix en), ...)) — every brand has three suffixes.
# National groups read brand first ("中国移动浙江公司"); local bodies read place first ("杭州地铁集团").
PLACE_FIRST_INDUSTRIES = frozenset(
    {"GOVERNMENT", "TRANSPORT", "EDUCATION", "HEALTHCARE", "MANUFACTURING", "OTHER"}
)
CUSTOMER_BRANDS = (
    (
        "中国移动",
        "China Mobile",
        "TELECOM",
        (("公司", "Co."), ("政企客户部", "Enterprise BU"), ("网络部", "Network Dept")),
    ),
    (
        "中国电信",
        "China Telecom",
        "TELECOM",
        (("公司", "Co."), ("政企客户部", "Enterprise BU"), ("云网运营部", "Cloud Ops")),
    ),
    (
        "中国联通",
        "China Unicom",
        "TELECOM",
        (("公司", "Co."), ("政企客户部", "Enterprise BU"), ("网络部", "Network Dept")),
    ),
    (
        "中国广电",
        "China Broadnet",
        "TELECOM",
        (("公司", "Co."), ("网络公司", "Network Co."), ("技术部", "Tech Dept")),
    ),
    (
        "国家电网",
        "State Grid",
        "ENERGY",
        (("公司", "Co."), ("信通公司", "ICT Co."), ("电力调度中心", "Dispatch Center")),
    ),
    (
        "南方电网",
        "China Southern Grid",
        "ENERGY",
        (("公司", "Co."), ("数字电网公司", "Digital Grid Co."), ("调度中心", "Dispatch Center")),
    ),
    (
        "中国石化",
        "Sinopec",
        "ENERGY",
        (("分公司", "Branch"), ("信息中心", "IT Center"), ("销售公司", "Sales Co.")),
    ),
    (
        "中国石油",
        "PetroChina",
        "ENERGY",
        (("分公司", "Branch"), ("信息中心", "IT Center"), ("油田公司", "Oilfield Co.")),
    ),
    (
        "国家能源集团",
        "CHN Energy",
        "ENERGY",
        (("公司", "Co."), ("电力公司", "Power Co."), ("信息中心", "IT Center")),
    ),
    (
        "招商银行",
        "China Merchants Bank",
        "FINANCE",
        (("分行", "Branch"), ("数据中心", "Data Center"), ("信用卡中心", "Card Center")),
    ),
    (
        "工商银行",
        "ICBC",
        "FINANCE",
        (("分行", "Branch"), ("数据中心", "Data Center"), ("软件开发中心", "Software Center")),
    ),
    (
        "建设银行",
        "China Construction Bank",
        "FINANCE",
        (("分行", "Branch"), ("数据中心", "Data Center"), ("运营中心", "Ops Center")),
    ),
    (
        "农业银行",
        "Agricultural Bank of China",
        "FINANCE",
        (("分行", "Branch"), ("数据中心", "Data Center"), ("科技部", "Tech Dept")),
    ),
    (
        "中国银行",
        "Bank of China",
        "FINANCE",
        (("分行", "Branch"), ("数据中心", "Data Center"), ("科技部", "Tech Dept")),
    ),
    (
        "平安保险",
        "Ping An Insurance",
        "FINANCE",
        (("分公司", "Branch"), ("科技中心", "Tech Center"), ("运营中心", "Ops Center")),
    ),
    (
        "中信证券",
        "CITIC Securities",
        "FINANCE",
        (("分公司", "Branch"), ("信息技术中心", "IT Center"), ("运营中心", "Ops Center")),
    ),
    (
        "阿里云",
        "Alibaba Cloud",
        "INTERNET",
        (("分公司", "Branch"), ("数据中心", "Data Center"), ("基础设施部", "Infrastructure")),
    ),
    (
        "腾讯",
        "Tencent",
        "INTERNET",
        (("分公司", "Branch"), ("数据中心", "Data Center"), ("网络平台部", "Network Platform")),
    ),
    (
        "京东",
        "JD.com",
        "RETAIL",
        (("分公司", "Branch"), ("物流中心", "Logistics Center"), ("数据中心", "Data Center")),
    ),
    (
        "苏宁",
        "Suning",
        "RETAIL",
        (("分公司", "Branch"), ("物流中心", "Logistics Center"), ("信息中心", "IT Center")),
    ),
    (
        "大数据管理局",
        "Big Data Bureau",
        "GOVERNMENT",
        (("", ""), ("政务云中心", "e-Gov Cloud Center"), ("信息中心", "IT Center")),
    ),
    (
        "公安局",
        "Public Security Bureau",
        "GOVERNMENT",
        (("", ""), ("科技信息化处", "IT Division"), ("指挥中心", "Command Center")),
    ),
    (
        "应急管理局",
        "Emergency Management Bureau",
        "GOVERNMENT",
        (("", ""), ("指挥中心", "Command Center"), ("信息中心", "IT Center")),
    ),
    (
        "地铁集团",
        "Metro Group",
        "TRANSPORT",
        (("", ""), ("运营公司", "Operations Co."), ("通信信号部", "Signalling Dept")),
    ),
    (
        "机场集团",
        "Airport Group",
        "TRANSPORT",
        (("", ""), ("信息中心", "IT Center"), ("运行指挥中心", "Operations Center")),
    ),
    (
        "港务集团",
        "Port Group",
        "TRANSPORT",
        (("", ""), ("智慧港口中心", "Smart Port Center"), ("信息中心", "IT Center")),
    ),
    (
        "高速公路集团",
        "Expressway Group",
        "TRANSPORT",
        (("", ""), ("信息中心", "IT Center"), ("监控中心", "Monitoring Center")),
    ),
    (
        "大学",
        "University",
        "EDUCATION",
        (("", ""), ("信息化办公室", "IT Office"), ("网络中心", "Network Center")),
    ),
    (
        "教育局",
        "Education Bureau",
        "EDUCATION",
        (("", ""), ("电教馆", "e-Learning Center"), ("信息中心", "IT Center")),
    ),
    (
        "人民医院",
        "People's Hospital",
        "HEALTHCARE",
        (("", ""), ("信息科", "IT Dept"), ("数据中心", "Data Center")),
    ),
    (
        "卫健委",
        "Health Commission",
        "HEALTHCARE",
        (("", ""), ("信息中心", "IT Center"), ("全民健康平台", "Health Platform")),
    ),
    (
        "汽车集团",
        "Automotive Group",
        "MANUFACTURING",
        (("", ""), ("智能制造部", "Smart Mfg Dept"), ("信息中心", "IT Center")),
    ),
    (
        "钢铁集团",
        "Steel Group",
        "MANUFACTURING",
        (("", ""), ("信息中心", "IT Center"), ("智慧工厂部", "Smart Factory")),
    ),
    (
        "家电集团",
        "Appliance Group",
        "MANUFACTURING",
        (("", ""), ("信息中心", "IT Center"), ("工业互联网部", "IIoT Dept")),
    ),
    (
        "城投集团",
        "Urban Investment Group",
        "OTHER",
        (("", ""), ("信息中心", "IT Center"), ("智慧城市公司", "Smart City Co.")),
    ),
    (
        "文旅集团",
        "Culture & Tourism Group",
        "OTHER",
        (("", ""), ("信息中心", "IT Center"), ("数字文旅公司", "Digital Tourism Co.")),
    ),
)

# Provinces and cities: (Chinese, English).
PLACES = (
    ("浙江", "Zhejiang"),
    ("江苏", "Jiangsu"),
    ("广东", "Guangdong"),
    ("福建", "Fujian"),
    ("山东", "Shandong"),
    ("河北", "Hebei"),
    ("四川", "Sichuan"),
    ("陕西", "Shaanxi"),
    ("湖北", "Hubei"),
    ("湖南", "Hunan"),
    ("河南", "Henan"),
    ("安徽", "Anhui"),
    ("江西", "Jiangxi"),
    ("云南", "Yunnan"),
    ("贵州", "Guizhou"),
    ("广西", "Guangxi"),
    ("辽宁", "Liaoning"),
    ("吉林", "Jilin"),
    ("山西", "Shanxi"),
    ("甘肃", "Gansu"),
    ("上海", "Shanghai"),
    ("北京", "Beijing"),
    ("天津", "Tianjin"),
    ("重庆", "Chongqing"),
    ("深圳", "Shenzhen"),
    ("广州", "Guangzhou"),
    ("杭州", "Hangzhou"),
    ("南京", "Nanjing"),
    ("苏州", "Suzhou"),
    ("宁波", "Ningbo"),
    ("无锡", "Wuxi"),
    ("温州", "Wenzhou"),
    ("厦门", "Xiamen"),
    ("福州", "Fuzhou"),
    ("青岛", "Qingdao"),
    ("济南", "Jinan"),
    ("成都", "Chengdu"),
    ("西安", "Xi'an"),
    ("武汉", "Wuhan"),
    ("长沙", "Changsha"),
    ("郑州", "Zhengzhou"),
    ("合肥", "Hefei"),
    ("南昌", "Nanchang"),
    ("昆明", "Kunming"),
    ("贵阳", "Guiyang"),
    ("南宁", "Nanning"),
    ("沈阳", "Shenyang"),
    ("大连", "Dalian"),
    ("长春", "Changchun"),
    ("太原", "Taiyuan"),
    ("兰州", "Lanzhou"),
    ("东莞", "Dongguan"),
    ("佛山", "Foshan"),
    ("珠海", "Zhuhai"),
    ("常州", "Changzhou"),
    ("南通", "Nantong"),
    ("徐州", "Xuzhou"),
    ("绍兴", "Shaoxing"),
    ("嘉兴", "Jiaxing"),
    ("金华", "Jinhua"),
    ("台州", "Taizhou"),
    ("泉州", "Quanzhou"),
    ("烟台", "Yantai"),
    ("潍坊", "Weifang"),
    ("洛阳", "Luoyang"),
    ("扬州", "Yangzhou"),
    ("镇江", "Zhenjiang"),
    ("湖州", "Huzhou"),
    ("漳州", "Zhangzhou"),
    ("惠州", "Huizhou"),
    ("中山", "Zhongshan"),
    ("汕头", "Shantou"),
    ("襄阳", "Xiangyang"),
    ("岳阳", "Yueyang"),
    ("赣州", "Ganzhou"),
    ("宜昌", "Yichang"),
    ("绵阳", "Mianyang"),
    ("宝鸡", "Baoji"),
    ("柳州", "Liuzhou"),
    ("唐山", "Tangshan"),
)

# Sub-units that make names unique at scale: "中国移动浙江公司" then "中国移动浙江公司数据中心".
SUB_UNITS = (
    ("", ""),
    ("数据中心", " Data Center"),
    ("研究院", " Research Institute"),
    ("运维中心", " O&M Center"),
    ("采购中心", " Procurement Center"),
    ("网络运营中心", " NOC"),
    ("客服中心", " Service Center"),
    ("工程建设部", " Construction Dept"),
    ("规划部", " Planning Dept"),
    ("信息安全部", " Security Dept"),
    ("云计算中心", " Cloud Center"),
    ("创新实验室", " Innovation Lab"),
    ("培训中心", " Training Center"),
    ("物资部", " Materials Dept"),
    ("财务共享中心", " Shared Finance"),
    ("数字化部", " Digital Dept"),
    ("第一分部", " Division 1"),
    ("第二分部", " Division 2"),
    ("第三分部", " Division 3"),
    ("东区分部", " East Division"),
    ("西区分部", " West Division"),
    ("南区分部", " South Division"),
    ("北区分部", " North Division"),
    ("新区分部", " New Area Division"),
)

ARCHIVE_TEXTS = {
    "summary": "年采购额稳定增长，IT与网络投资集中在第二、四季度；与我司合作多年。",
    "industry_competition": "行业数字化转型加速，主要竞争对手为中兴、爱立信和新华三，价格竞争激烈。",
    "strategy_pain_points": "战略重点是降本增效与安全可控；痛点是存量网络老旧、运维人力不足。",
    "finance": "财务状况良好，资产负债率约55%，预算审批严格，付款周期通常为60至90天。",
    "procurement_process": "采购由采购中心统一招标，技术部门评分占60%，分管副总审批，重大项目上会决策。",
    "swot_strengths": "我司在存量网络份额领先，交付口碑好，高层关系稳固。",
    "swot_weaknesses": "软件与服务能力认可度一般，部分区域覆盖人员不足。",
    "swot_opportunities": "新一代数据中心与全光网络改造即将启动，预算已纳入规划。",
    "swot_threats": "竞争对手低价策略，客户推行多供应商策略以分散风险。",
}

# --- People --------------------------------------------------------------------------------------
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "建国",
    "晓东",
    "志强",
    "海燕",
    "文博",
    "思远",
    "子涵",
    "雨欣",
    "浩然",
    "梓萱",
    "宇轩",
    "欣怡",
    "俊杰",
    "佳怡",
    "天宇",
    "晨曦",
    "一鸣",
    "嘉豪",
    "诗涵",
    "博文",
    "雅琪",
    "国栋",
    "立新",
    "春梅",
    "红霞",
    "永刚",
    "振华",
)

CONTACT_TITLES = {
    "TOP": (
        ("总经理", "DECIDER"),
        ("副总经理", "APPROVER"),
        ("首席技术官", "DECIDER"),
        ("首席信息官", "DECIDER"),
        ("总会计师", "APPROVER"),
    ),
    "MIDDLE": (
        ("网络部主任", "INFLUENCER"),
        ("采购部经理", "BUYER"),
        ("信息中心主任", "INFLUENCER"),
        ("规划部经理", "INITIATOR"),
        ("办公室主任", "GATEKEEPER"),
        ("运维部经理", "USER"),
    ),
    "BASE": (
        ("网络工程师", "USER"),
        ("采购专员", "BUYER"),
        ("项目经理", "INITIATOR"),
        ("运维工程师", "USER"),
        ("总经理秘书", "GATEKEEPER"),
    ),
}
CONTACT_DEPARTMENTS = ("公司领导", "网络部", "信息中心", "采购部", "规划部", "运维部", "财务部", "办公室")

# --- Products ------------------------------------------------------------------------------------
# (line zh, code prefix, ((series, name, list price CNY), ...))
PRODUCT_LINES = (
    (
        "无线",
        "WL",
        (
            ("5G", "5G AAU 64T64R 有源天线单元", 180_000),
            ("5G", "5G BBU 基带处理单元", 260_000),
            ("LTE", "LTE RRU 射频拉远单元", 45_000),
            ("室分", "数字化室分 LampSite", 38_000),
            ("微波", "IP微波 RTN 950", 52_000),
            ("核心网", "5G 核心网 UDG 用户面", 1_200_000),
        ),
    ),
    (
        "数通",
        "DC",
        (
            ("路由器", "NE8000 高端路由器", 860_000),
            ("路由器", "AR6000 企业路由器", 36_000),
            ("交换机", "CE16800 数据中心交换机", 950_000),
            ("交换机", "S5735 园区交换机", 12_000),
            ("WLAN", "AirEngine Wi-Fi 6 AP", 4_800),
            ("SD-WAN", "SD-WAN 控制器", 320_000),
        ),
    ),
    (
        "光传输",
        "OT",
        (
            ("OTN", "OptiX OSN 9800 OTN", 1_500_000),
            ("OTN", "OptiX OSN 1800 紧凑型OTN", 210_000),
            ("PON", "OLT MA5800 光线路终端", 280_000),
            ("PON", "ONT 光网络终端", 600),
            ("SPN", "SPN 切片分组网设备", 520_000),
        ),
    ),
    (
        "云计算",
        "CL",
        (
            ("服务器", "FusionServer 2288H 服务器", 68_000),
            ("存储", "OceanStor 全闪存存储", 780_000),
            ("云平台", "私有云平台软件 (每节点)", 55_000),
            ("云平台", "分布式数据库授权", 400_000),
            ("安全", "下一代防火墙 USG", 150_000),
            ("安全", "态势感知平台", 620_000),
        ),
    ),
    (
        "能源",
        "EN",
        (
            ("电源", "通信电源 ETP48400", 26_000),
            ("储能", "智能锂电储能柜", 330_000),
            ("光伏", "智能光伏逆变器 SUN2000", 42_000),
            ("数据中心", "模块化数据中心 FusionModule", 2_400_000),
            ("数据中心", "智能微模块 UPS", 190_000),
        ),
    ),
    (
        "服务",
        "SV",
        (
            ("交付", "网络规划与设计服务", 300_000),
            ("交付", "工程安装调测服务 (每站)", 8_000),
            ("维保", "年度维保服务", 450_000),
            ("培训", "认证培训服务", 60_000),
        ),
    ),
)

# --- Pipeline ------------------------------------------------------------------------------------
NEED_TOPICS = {
    "TELECOM": (
        "5G 基站扩容",
        "核心网云化改造",
        "城域网升级",
        "千兆光网改造",
        "IP 承载网扩容",
        "室分覆盖优化",
    ),
    "ENERGY": ("电力调度数据网", "变电站光通信", "储能电站建设", "配电网自动化", "数据中心供电改造"),
    "FINANCE": ("数据中心网络重构", "分布式存储升级", "灾备中心建设", "分行网点 SD-WAN", "信创云平台"),
    "INTERNET": ("数据中心交换网扩容", "全闪存储扩容", "智算中心网络"),
    "RETAIL": ("门店网络改造", "物流园区 Wi-Fi", "私有云平台"),
    "GOVERNMENT": ("政务云扩容", "视频专网建设", "应急指挥通信", "电子政务外网升级"),
    "TRANSPORT": ("地铁通信系统", "智慧机场网络", "智慧港口 5G 专网", "高速公路视频联网"),
    "EDUCATION": ("智慧校园网络", "教育城域网", "数据中心建设"),
    "HEALTHCARE": ("智慧医院网络", "区域卫生信息平台", "医疗数据中心"),
    "MANUFACTURING": ("工业互联网平台", "智能工厂 5G 专网", "园区网络改造"),
    "OTHER": ("智慧城市平台", "园区网络建设", "数据中心建设"),
}
NEED_TEXT = "客户{topic}需求明确，希望在{quarter}完成方案评估，关注性能、可靠性与总体拥有成本。"
COMPETITORS = ("中兴", "爱立信", "诺基亚", "新华三", "思科", "锐捷", "浪潮", "烽火")
LEAD_CLOSE_REASONS = (
    "客户预算取消 Budget cancelled",
    "不符合公司战略 Not in our strategy",
    "需求被竞争对手锁定 Locked by a competitor",
    "重复线索 Duplicate lead",
    "客户无采购计划 No purchase plan",
)
OPP_LOST_REASONS = (
    "价格劣势 Price too high",
    "技术评分落后 Lower technical score",
    "客户选择现有供应商 Incumbent vendor kept",
    "关系不足 Weak relationship",
)
OPP_ABANDONED_REASONS = (
    "毛利过低，主动放弃 Margin too low",
    "客户项目取消 Project cancelled by the customer",
    "风险不可接受 Unacceptable risk",
)
QUALIFY_ANSWERS = (
    ("符合公司战略，风险可控。", "客户需求紧迫，预算与采购流程明确。", "关系良好，方案成熟，团队到位。"),
    ("属于重点拓展方向，需评估交付风险。", "需求明确但预算待批。", "存在强势竞争对手，需高层拜访。"),
    ("与主航道相关度一般。", "客户仍在调研阶段。", "缺少关键决策人支持。"),
)
REVIEW_REASONS = {
    "CONVERT": "三个问题均已回答，满足立项条件，转为机会点。",
    "NURTURE": "需求尚在形成，继续培育并安排技术交流。",
    "CLOSE": "经评审不具备跟进价值，关闭线索。",
    "REASSIGN": "客户归属调整，转交对应客户经理跟进。",
}
GATE_CONDITIONS = (
    "",
    "",
    "",
    "毛利不低于25%",
    "需补充客户预算证明",
    "交付方案需经交付经理确认",
    "付款条件不低于标准条款",
)

# --- Relationships -------------------------------------------------------------------------------
VISIT_PURPOSES = {
    "COMPANY_VISIT": "邀请客户考察公司总部与展厅",
    "EXHIBITION": "邀请客户参加行业展会与论坛",
    "REFERENCE_SITE": "参观样板点，展示同类项目成果",
    "TOPIC_EXCHANGE": "围绕客户痛点进行专题交流",
    "EXECUTIVE_VISIT": "公司高层拜访客户决策层",
    "SPONSOR_MEETING": "与高层赞助人会面，对齐合作规划",
    "EXECUTIVE_SUMMIT": "双方高层峰会，签署战略合作备忘录",
    "TRIP_ACCOMPANIMENT": "陪同客户出差考察",
    "HOME_VISIT": "节日家访，增进关系",
    "BUSINESS_DINNER": "商务宴请，了解客户最新动态",
    "COURTESY": "节日礼节性问候",
    "ROUTINE": "日常拜访，跟进项目进展",
    "TECH_EXCHANGE": "技术交流与联合创新研讨",
}
VISIT_OUTCOMES = (
    "客户认可方案方向，同意安排下一轮交流。",
    "了解到客户明年投资重点，已记录到客户档案。",
    "客户提出新的需求，已登记为线索。",
    "客户对交付进度有意见，已反馈交付经理。",
    "确认了采购时间表与评标方式。",
    "客户关注价格，需要准备报价策略。",
)
NEXT_STEPS = ("提交技术方案", "安排样板点参观", "邀请专家交流", "准备报价", "跟进采购计划", "约见决策层")
ISSUE_TITLES = (
    "设备告警频繁 Frequent device alarms",
    "交付进度延迟 Delivery behind schedule",
    "发票信息有误 Wrong invoice details",
    "备件响应慢 Slow spare-part response",
    "软件升级失败 Software upgrade failed",
    "培训需求未满足 Training need not met",
)
PLAN_OBJECTIVES = {
    "KEY": "提升关键决策人支持度，年底前关键客户关系平均分达到4分以上。",
    "GENERAL": "拓展普遍客户关系，覆盖网络、采购、财务等关键部门。",
    "ORGANISATIONAL": "推动双方高层互访，签署战略合作协议。",
}
PLAN_ACTIONS = (
    "邀请CTO参观公司总部",
    "安排技术专家专题交流",
    "组织样板点参观",
    "节日拜访关键决策人",
    "邀请参加行业峰会",
    "建立月度例会机制",
    "高层拜访客户一把手",
    "组织联合创新研讨",
)
BUDGET_AREAS = (
    "5G 网络",
    "数据中心",
    "光传输",
    "IT 云化",
    "网络安全",
    "能源基础设施",
    "园区网络",
    "运维服务",
)
CUSTOMER_EVENTS = ("年度预算会议", "年度集采招标", "董事会会议", "技术规划评审", "供应商年度评估")
