"""Hand-written pairs about trade news (US–China talks, tariffs, rare earths, export controls).

Each pair: (a, b, same, note), a text being (title, summary, link). Positives are
one event as two outlets would tell it (their own title, their own summary);
hard negatives are the same topic with different facts or a different event.
Cross-language copies (a Chinese report of an English story) are left out: out
of scope for text comparison.
"""

from __future__ import annotations

Text = tuple[str, str, str | None]
Pair = tuple[Text, Text, bool, str]

PAIRS: list[Pair] = [
    # ------------------------------------------------------------------ positives, English
    (
        ("US, China agree to extend tariff truce by 90 days",
         "The United States and China agreed on Monday to extend their tariff truce by another 90 days, "
         "keeping duties on each other's goods at current levels while negotiators work on a broader trade deal.",
         "https://www.reuters.com/world/us-china-agree-extend-tariff-truce-90-days-2025-08-11/"),
        ("Washington and Beijing extend trade truce for another 90 days",
         "Washington and Beijing extended their trade truce for 90 more days on Monday, averting a jump in tariffs "
         "as talks on a wider trade agreement continue.",
         "https://apnews.com/article/us-china-trade-truce-extended-90-days"),
        True, "rewritten title and summary, same event",
    ),
    (
        ("China imposes export controls on seven rare earth elements",
         "China's commerce ministry said it will require export licences for seven medium and heavy rare earth "
         "elements, including samarium, gadolinium and terbium, in response to new US tariffs.",
         "https://www.ft.com/content/china-rare-earth-export-controls-seven-elements"),
        ("Beijing adds export licence requirement for seven rare earths",
         "Beijing will require licences to export seven rare earth elements such as samarium, gadolinium and "
         "terbium, the commerce ministry said, retaliating against the latest US tariffs.",
         "https://www.bloomberg.com/news/articles/beijing-rare-earths-licence"),
        True, "same announcement, second outlet's words",
    ),
    (
        ("US Commerce Department adds 27 Chinese entities to Entity List",
         "The Commerce Department's Bureau of Industry and Security added 27 Chinese companies to the Entity List, "
         "citing support for China's military modernisation and quantum computing programs.",
         "https://www.reuters.com/technology/us-adds-27-chinese-entities-entity-list"),
        ("Commerce adds 27 Chinese companies to trade blacklist over military ties",
         "The US Bureau of Industry and Security placed 27 Chinese entities on its Entity List, a trade blacklist, "
         "saying they support China's military modernisation and quantum computing.",
         "https://www.cnbc.com/2025/03/25/commerce-adds-27-chinese-entities-to-entity-list.html"),
        True, "same action, rewritten",
    ),
    (
        ("Trump raises tariffs on Chinese goods to 145%",
         "President Donald Trump raised the tariff on imports from China to 145%, the White House said on Thursday, "
         "escalating a trade war between the world's two largest economies.",
         "https://www.cnbc.com/2025/04/10/trump-china-tariffs-145-percent.html"),
        ("White House confirms total US tariff on Chinese imports is 145%",
         "The White House confirmed on Thursday that the total tariff on Chinese imports now stands at 145%, "
         "after President Trump's latest increase in the escalating trade war with China.",
         "https://www.nbcnews.com/business/economy/white-house-tariff-china-145"),
        True, "same event, different framing",
    ),
    (
        ("China retaliates with 125% tariffs on US goods",
         "China will raise tariffs on all US goods to 125% from Saturday, the finance ministry said, "
         "in retaliation for Washington's latest tariff increase.",
         "https://www.reuters.com/markets/china-raises-tariffs-us-goods-125"),
        ("Beijing hikes tariffs on American imports to 125% in retaliation",
         "Beijing said it would hike tariffs on all American imports to 125% starting Saturday, the finance "
         "ministry announced, retaliating against Washington's tariff increase.",
         "https://www.scmp.com/economy/china-economy/article/beijing-tariffs-125"),
        True, "same retaliation, rewritten",
    ),
    (
        ("US and China agree to slash tariffs after Geneva talks",
         "The United States and China agreed to cut reciprocal tariffs for 90 days after talks in Geneva: US "
         "tariffs on Chinese goods fall to 30% and Chinese tariffs on US goods fall to 10%.",
         "https://www.reuters.com/world/china/us-china-geneva-talks-tariffs-cut"),
        ("Geneva talks: US, China to cut tariffs for 90 days",
         "After weekend talks in Geneva the US and China agreed to slash tariffs for 90 days, with US duties on "
         "Chinese goods falling to 30% and China's duties on US goods to 10%.",
         "https://www.bbc.com/news/articles/geneva-us-china-tariffs"),
        True, "same deal",
    ),
    (
        ("Nvidia says US requires licence for H20 chip exports to China",
         "Nvidia said the US government informed it that exports of its H20 AI chips to China will require a "
         "licence, and it expects a $5.5 billion charge in the first quarter.",
         "https://www.reuters.com/technology/nvidia-h20-licence-china"),
        ("Nvidia to take $5.5 billion charge as US curbs H20 chip sales to China",
         "Nvidia expects a $5.5 billion charge after the US government told it that H20 AI chip exports to China "
         "now need a licence.",
         "https://www.ft.com/content/nvidia-h20-charge"),
        True, "same disclosure, title reordered",
    ),
    (
        ("EU imposes tariffs of up to 35.3% on Chinese electric vehicles",
         "The European Commission imposed definitive anti-subsidy tariffs of up to 35.3% on electric vehicles "
         "made in China, on top of the standard 10% car import duty, for five years.",
         "https://www.reuters.com/business/autos-transportation/eu-tariffs-chinese-evs-35"),
        ("Brussels confirms duties of up to 35.3% on China-made EVs",
         "Brussels confirmed definitive tariffs of up to 35.3% on electric vehicles made in China, added to the "
         "standard 10% import duty, for five years, the European Commission said.",
         "https://www.politico.eu/article/eu-confirms-tariffs-china-electric-vehicles"),
        True, "same decision",
    ),
    (
        ("China suspends rare earth export restrictions for one year",
         "China will suspend the export controls on rare earths it announced in October for one year, the "
         "commerce ministry said, after the meeting between Xi Jinping and Donald Trump in Busan.",
         "https://www.reuters.com/world/china/china-suspends-rare-earth-controls"),
        ("Beijing pauses October rare earth export controls for a year after Xi-Trump meeting",
         "Beijing paused for one year the rare earth export controls announced in October, its commerce ministry "
         "said, following Xi Jinping's meeting with Donald Trump in Busan.",
         "https://www.aljazeera.com/economy/beijing-pauses-rare-earth-controls"),
        True, "same suspension",
    ),
    (
        ("US to revoke visas of Chinese students, Rubio says",
         "Secretary of State Marco Rubio said the United States will aggressively revoke visas for Chinese "
         "students, including those with ties to the Chinese Communist Party or studying in critical fields.",
         None),
        ("Rubio: US will aggressively revoke visas for Chinese students",
         "The United States will begin to aggressively revoke the visas of Chinese students, including those with "
         "ties to the Communist Party or in critical fields, Secretary of State Marco Rubio said.",
         None),
        True, "same statement, quoted",
    ),
    (
        ("US and China hold trade talks in London",
         "Senior US and Chinese officials met in London on Monday for trade talks focused on export controls and "
         "rare earths, with Treasury Secretary Scott Bessent and Vice Premier He Lifeng leading the delegations.",
         "https://www.reuters.com/world/china/us-china-talks-london"),
        ("Bessent and He Lifeng lead US-China trade talks in London",
         "Treasury Secretary Scott Bessent and Vice Premier He Lifeng led trade talks in London on Monday, with "
         "export controls and rare earths on the agenda.",
         "https://www.cnn.com/2025/06/09/business/us-china-trade-talks-london"),
        True, "same meeting",
    ),
    (
        ("USTR proposes port fees on Chinese-built ships",
         "The US Trade Representative proposed fees of up to $1.5 million per port call for ships built in China, "
         "following a Section 301 investigation into China's shipbuilding dominance.",
         "https://www.reuters.com/business/ustr-port-fees-chinese-ships"),
        ("US plans fees up to $1.5 million per port call on China-built vessels",
         "Ships built in China would pay up to $1.5 million per US port call under fees proposed by the US Trade "
         "Representative after its Section 301 investigation into Chinese shipbuilding.",
         "https://www.wsj.com/articles/us-port-fees-china-built-ships"),
        True, "same proposal",
    ),
    (
        ("China bans exports of gallium, germanium and antimony to the US",
         "China banned exports of gallium, germanium and antimony to the United States, a day after Washington "
         "announced new curbs on chip exports to China.",
         "https://www.reuters.com/markets/commodities/china-bans-gallium-germanium-antimony-us"),
        ("Beijing bans gallium, germanium, antimony shipments to US after chip curbs",
         "Beijing banned shipments of gallium, germanium and antimony to the US on Tuesday, one day after "
         "Washington unveiled new restrictions on chip exports to China.",
         "https://www.theguardian.com/world/china-bans-gallium-exports-us"),
        True, "same ban",
    ),
    (
        ("Mexico proposes tariffs of up to 50% on Chinese cars",
         "Mexico's government proposed raising tariffs on cars imported from China and other Asian countries "
         "without trade deals to 50%, from 20% now.",
         None),
        ("Mexico plans 50% tariff on cars from China",
         "Mexico plans to raise tariffs on cars from China and other Asian countries it has no trade agreement "
         "with to 50% from 20%, the government proposed.",
         None),
        True, "same proposal",
    ),
    (
        ("Trump and Xi speak by phone, agree to more trade talks",
         "US President Donald Trump and Chinese President Xi Jinping spoke by phone on Thursday and agreed that "
         "their teams would hold further trade talks, Trump said.",
         None),
        ("Xi and Trump hold phone call, say trade teams will meet again",
         "Chinese President Xi Jinping and US President Donald Trump held a phone call on Thursday, agreeing that "
         "their trade teams will meet again for more talks.",
         None),
        True, "same call",
    ),
    (
        ("Canada imposes 100% tariff on Chinese electric vehicles",
         "Canada will impose a 100% tariff on electric vehicles imported from China starting October 1, and a 25% "
         "tariff on Chinese steel and aluminum, Prime Minister Justin Trudeau said.",
         None),
        ("Trudeau announces 100% tariff on China-made EVs, 25% on steel and aluminum",
         "Prime Minister Justin Trudeau announced a 100% tariff on Chinese-made electric vehicles from October 1 "
         "and a 25% tariff on steel and aluminum from China.",
         None),
        True, "same announcement",
    ),
    # ------------------------------------------------------------------ hard negatives, English
    (
        ("China curbs rare earth exports",
         "China's commerce ministry announced new export controls on rare earth processing technology and "
         "magnets, requiring licences for foreign firms.",
         None),
        ("US adds rare earth firms to entity list",
         "The US Commerce Department added several Chinese rare earth companies to the Entity List, restricting "
         "their access to American technology.",
         None),
        False, "same topic (rare earths), different actions by different governments",
    ),
    (
        ("US, China agree to extend tariff truce by 90 days",
         "The United States and China agreed to extend their tariff truce by another 90 days while negotiators "
         "work on a broader trade deal.",
         None),
        ("US and China agree to slash tariffs after Geneva talks",
         "The United States and China agreed to cut reciprocal tariffs for 90 days after talks in Geneva.",
         None),
        False, "two different agreements, both '90 days'",
    ),
    (
        ("Trump raises tariffs on Chinese goods to 145%",
         "President Donald Trump raised the tariff on imports from China to 145%, escalating the trade war.",
         None),
        ("Trump raises tariffs on Chinese goods to 104%",
         "President Donald Trump raised the tariff on imports from China to 104%, escalating the trade war.",
         None),
        False, "same wording, different escalation step (different day and figure)",
    ),
    (
        ("China retaliates with 125% tariffs on US goods",
         "China will raise tariffs on all US goods to 125% from Saturday, the finance ministry said.",
         None),
        ("China retaliates with 84% tariffs on US goods",
         "China will raise tariffs on all US goods to 84% from Thursday, the finance ministry said.",
         None),
        False, "same template, an earlier retaliation",
    ),
    (
        ("US adds 27 Chinese entities to Entity List",
         "The Commerce Department added 27 Chinese companies to the Entity List over military modernisation.",
         None),
        ("US adds 80 companies, including Chinese firms, to Entity List",
         "The Commerce Department added 80 companies, most of them Chinese, to the Entity List over AI "
         "supercomputers and hypersonic weapons.",
         None),
        False, "two different Entity List rounds",
    ),
    (
        ("China bans exports of gallium, germanium and antimony to the US",
         "China banned exports of gallium, germanium and antimony to the United States after new US chip curbs.",
         None),
        ("China restricts graphite exports, citing national security",
         "China will require export permits for some graphite products from December, citing national security, "
         "in its latest move to control supplies of critical minerals.",
         None),
        False, "critical-mineral controls, different minerals and dates",
    ),
    (
        ("EU imposes tariffs of up to 35.3% on Chinese electric vehicles",
         "The European Commission imposed definitive tariffs of up to 35.3% on electric vehicles made in China.",
         None),
        ("China launches anti-dumping probe into EU brandy",
         "China's commerce ministry launched an anti-dumping investigation into brandy imported from the "
         "European Union, days after the EU moved on Chinese electric vehicles.",
         None),
        False, "EU-China trade dispute, different actions",
    ),
    (
        ("US and China hold trade talks in London",
         "Senior US and Chinese officials met in London for trade talks on export controls and rare earths.",
         None),
        ("US and China hold trade talks in Stockholm",
         "Senior US and Chinese officials met in Stockholm for trade talks on extending the tariff truce.",
         None),
        False, "two different rounds of talks",
    ),
    (
        ("Nvidia says US requires licence for H20 chip exports to China",
         "Nvidia said exports of its H20 AI chips to China will require a licence.",
         None),
        ("US to allow Nvidia H20 sales to China, company says",
         "Nvidia said the US government assured it that licences to sell its H20 chips to China will be granted.",
         None),
        False, "opposite news about the same chip, months apart",
    ),
    (
        ("USTR proposes port fees on Chinese-built ships",
         "The US Trade Representative proposed fees of up to $1.5 million per port call for China-built ships.",
         None),
        ("China imposes special port fees on US ships",
         "China will charge special port fees on vessels owned or operated by US companies, the transport "
         "ministry said, in response to US fees on Chinese ships.",
         None),
        False, "tit-for-tat port fees, different actions",
    ),
    (
        ("Canada imposes 100% tariff on Chinese electric vehicles",
         "Canada will impose a 100% tariff on electric vehicles imported from China.",
         None),
        ("China imposes tariffs on Canadian canola oil and pork",
         "China will impose 100% tariffs on Canadian canola oil and peas and 25% on pork and seafood, in "
         "retaliation for Canada's duties on Chinese electric vehicles.",
         None),
        False, "retaliation to the first story: a different event",
    ),
    (
        ("Trump and Xi speak by phone, agree to more trade talks",
         "US President Donald Trump and Chinese President Xi Jinping spoke by phone and agreed to more talks.",
         None),
        ("Trump and Xi meet in Busan, agree one-year trade truce",
         "US President Donald Trump and Chinese President Xi Jinping met in Busan and agreed a one-year truce "
         "covering tariffs and rare earth export controls.",
         None),
        False, "a call and a meeting: different events",
    ),
    (
        ("Commerce Department launches Section 232 probe into semiconductor imports",
         "The Commerce Department opened a Section 232 national security investigation into imports of "
         "semiconductors and chipmaking equipment.",
         None),
        ("Commerce Department launches Section 232 probe into critical mineral imports",
         "The Commerce Department opened a Section 232 national security investigation into imports of processed "
         "critical minerals, including rare earths.",
         None),
        False, "same template, different product",
    ),
    (
        ("Mexico proposes tariffs of up to 50% on Chinese cars",
         "Mexico's government proposed raising tariffs on cars imported from China to 50%.",
         None),
        ("China opens trade barrier investigation into Mexico",
         "China's commerce ministry opened an investigation into Mexican trade barriers after Mexico proposed "
         "higher tariffs on Chinese goods.",
         None),
        False, "response to the first story, a separate event",
    ),
    # ------------------------------------------------------------------ positives, Chinese
    (
        ("商务部宣布对七类中重稀土实施出口管制",
         "商务部、海关总署发布公告，决定对钐、钆、铽、镝、镥、钪、钇等7类中重稀土相关物项实施出口管制，自公告发布之日起施行。",
         None),
        ("中方对钐钆铽等7类中重稀土物项实施出口管制",
         "商务部和海关总署联合发布公告，即日起对钐、钆、铽、镝、镥、钪、钇7类中重稀土相关物项实施出口管制。",
         None),
        True, "ZH: same announcement, two outlets",
    ),
    (
        ("中美日内瓦经贸会谈联合声明：双方大幅降低关税",
         "中美双方在日内瓦举行经贸高层会谈后发布联合声明，美方对中国商品加征的关税降至30%，中方对美国商品的关税降至10%，为期90天。",
         None),
        ("中美发布日内瓦经贸会谈联合声明 互降关税90天",
         "中美日内瓦经贸高层会谈联合声明发布：90天内美方对华加征关税降至30%，中方对美加征关税降至10%。",
         None),
        True, "ZH: same joint statement",
    ),
    (
        ("国务院关税税则委员会：对原产于美国的进口商品加征关税提高至125%",
         "国务院关税税则委员会发布公告，自4月12日起，对原产于美国的所有进口商品加征关税税率由84%提高至125%。",
         None),
        ("中方宣布对美商品加征关税税率提高至125%",
         "国务院关税税则委员会宣布，自4月12日起对原产于美国的所有进口商品，加征关税税率由84%提高至125%。",
         None),
        True, "ZH: same tariff notice",
    ),
    (
        ("中方决定暂停实施10月公布的稀土出口管制措施一年",
         "商务部表示，中方将暂停实施10月9日公布的稀土等相关出口管制措施一年，并研究细化具体方案。",
         None),
        ("商务部：暂停实施10月9日公布的稀土出口管制措施一年",
         "商务部新闻发言人表示，中方将暂停实施10月9日公布的稀土相关出口管制措施，为期一年，并将研究细化具体方案。",
         None),
        True, "ZH: same suspension",
    ),
    (
        ("商务部将13家美国实体列入不可靠实体清单",
         "商务部不可靠实体清单工作机制发布公告，将13家美国实体列入不可靠实体清单，禁止其从事与中国有关的进出口活动。",
         None),
        ("13家美国企业被列入不可靠实体清单",
         "据商务部公告，不可靠实体清单工作机制决定将13家美国企业列入清单，禁止其从事与中国有关的进出口活动和在华新增投资。",
         None),
        True, "ZH: same listing",
    ),
    (
        ("中美经贸磋商在伦敦举行",
         "中共中央政治局委员、国务院副总理何立峰与美方在伦敦举行中美经贸磋商机制首次会议，双方就经贸问题进行了坦诚深入的交流。",
         None),
        ("何立峰在伦敦与美方举行中美经贸磋商机制首次会议",
         "国务院副总理何立峰在伦敦与美国财政部长贝森特等举行中美经贸磋商机制首次会议，双方进行了坦诚深入的交流。",
         None),
        True, "ZH: same meeting",
    ),
    (
        ("海关总署：前10个月我国进出口总值同比增长",
         "海关总署发布数据，今年前10个月我国货物贸易进出口总值37.3万亿元，同比增长3.6%，其中出口增长6.2%。",
         None),
        ("前10个月我国货物贸易进出口37.3万亿元 同比增长3.6%",
         "据海关统计，前10个月，我国货物贸易进出口总值37.3万亿元人民币，同比增长3.6%。其中出口增长6.2%。",
         None),
        True, "ZH: same statistics release",
    ),
    (
        ("日本政府、対中半導体製造装置の輸出規制を強化",
         "経済産業省は、先端半導体の製造装置など23品目を輸出管理の対象に追加すると発表した。7月から施行する。",
         None),
        ("経産省、先端半導体製造装置23品目を輸出規制対象に追加",
         "経済産業省は先端半導体の製造装置23品目を輸出管理の規制対象に追加すると発表した。7月から施行される。",
         None),
        True, "JA: same announcement",
    ),
    # ------------------------------------------------------------------ hard negatives, Chinese
    (
        ("商务部宣布对七类中重稀土实施出口管制",
         "商务部、海关总署发布公告，决定对钐、钆、铽等7类中重稀土相关物项实施出口管制。",
         None),
        ("商务部宣布对稀土相关技术实施出口管制",
         "商务部发布公告，决定对稀土开采、冶炼分离、磁材制造等相关技术实施出口管制，自12月1日起施行。",
         None),
        False, "ZH: two different rare-earth control notices",
    ),
    (
        ("国务院关税税则委员会：对原产于美国的进口商品加征关税提高至125%",
         "自4月12日起，对原产于美国的所有进口商品加征关税税率由84%提高至125%。",
         None),
        ("国务院关税税则委员会：对原产于美国的进口商品加征关税提高至84%",
         "自4月10日起，对原产于美国的所有进口商品加征关税税率由34%提高至84%。",
         None),
        False, "ZH: same template, earlier step",
    ),
    (
        ("商务部将13家美国实体列入不可靠实体清单",
         "商务部不可靠实体清单工作机制发布公告，将13家美国实体列入不可靠实体清单。",
         None),
        ("商务部将28家美国实体列入出口管制管控名单",
         "商务部发布公告，将28家美国实体列入出口管制管控名单，禁止向其出口两用物项。",
         None),
        False, "ZH: different list, different entities",
    ),
    (
        ("中美经贸磋商在伦敦举行",
         "国务院副总理何立峰与美方在伦敦举行中美经贸磋商机制首次会议。",
         None),
        ("中美经贸磋商在斯德哥尔摩举行",
         "国务院副总理何立峰与美方在斯德哥尔摩举行中美经贸会谈，双方同意推动美方暂停的24%对等关税如期展期90天。",
         None),
        False, "ZH: two rounds of talks",
    ),
    (
        ("海关总署：前10个月我国进出口总值同比增长",
         "今年前10个月我国货物贸易进出口总值37.3万亿元，同比增长3.6%。",
         None),
        ("海关总署：前三季度我国进出口总值同比增长",
         "今年前三季度我国货物贸易进出口总值33.61万亿元，同比增长4%。",
         None),
        False, "ZH: a different month's release",
    ),
    (
        ("中方对原产于美国的部分进口商品加征关税",
         "国务院关税税则委员会公告，对原产于美国的煤炭、液化天然气加征15%关税，对原油、农业机械加征10%关税。",
         None),
        ("中方对原产于加拿大的部分进口商品加征关税",
         "国务院关税税则委员会公告，对原产于加拿大的菜籽油、豌豆加征100%关税，对猪肉、水产品加征25%关税。",
         None),
        False, "ZH: same template, another country",
    ),
    (
        ("商务部：对原产于美国的进口光纤产品反倾销调查",
         "商务部发布公告，对原产于美国的进口相关光纤产品发起反规避调查。",
         None),
        ("商务部：对原产于欧盟的进口白兰地反倾销调查",
         "商务部发布公告，对原产于欧盟的进口白兰地发起反倾销调查。",
         None),
        False, "ZH: different product and partner",
    ),
    (
        ("日本政府、対中半導体製造装置の輸出規制を強化",
         "経済産業省は、先端半導体の製造装置など23品目を輸出管理の対象に追加すると発表した。",
         None),
        ("中国、日本産水産物の輸入を全面停止",
         "中国税関総署は、日本産水産物の輸入を全面的に停止すると発表した。処理水の海洋放出を受けた措置。",
         None),
        False, "JA: different events, Japan-China trade",
    ),
    # ------------------------------------------------------------------ mixed script
    (
        ("China 稀土 export controls: MOFCOM adds seven elements",
         "MOFCOM 公告: samarium, gadolinium, terbium, dysprosium, lutetium, scandium and yttrium need export "
         "licences from April 4.",
         None),
        ("MOFCOM adds seven 稀土 elements to export controls",
         "Samarium, gadolinium, terbium, dysprosium, lutetium, scandium and yttrium need export licences from "
         "April 4, MOFCOM 公告 says.",
         None),
        True, "mixed Latin and CJK, same notice",
    ),
]
