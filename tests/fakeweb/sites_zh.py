"""The Chinese site of the fake web: a city public security bureau's portal (:data:`ZH`, simplified
Chinese) with its template words (404 page included) and a procurement award notice for a
“safe city” camera network. Fixed text only, like every site of the fake web.
"""

from __future__ import annotations

from .profile import Article, Profile, nav

ZH = Profile(
    key="zh",
    lang="zh-CN",
    name="滨江市公安局",
    tagline="滨江市公安局门户网站",
    topbar=(
        '<ul class="topbar"><li>无障碍浏览</li><li><a href="/jt/">简体</a> | <a href="/ft/">繁體</a></li>'
        '<li>报警电话：110</li><li><a href="/wzdt/">网站地图</a></li></ul>'
    ),
    nav=nav(
        "首页", "/", "机构概况", "/jggk/", "局领导", "/jggk/jld/", "内设机构", "/jggk/nsjg/", "警务公开", "/jwgk/",
        "通知公告", "/zwgk/tzgg/", "政策法规", "/zcfg/", "办事指南", "/bszn/", "户政业务", "/bszn/hz/",
        "出入境", "/bszn/crj/", "交通管理", "/bszn/jt/", "治安管理", "/bszn/za/", "网上办事", "/wsbs/",
        "互动交流", "/hdjl/", "局长信箱", "/hdjl/jzxx/", "在线咨询", "/hdjl/zxzx/", "政府采购", "/zwgk/zfcg/",
        "采购公告", "/zwgk/cggg/", "中标公告", "/zwgk/zbgg/", "合同公示", "/zwgk/htgs/", "警方通报", "/jftb/",
        "平安建设", "/pajs/", "视频新闻", "/spxw/", "联系我们", "/lxwm/",
    ),
    sidebar=(
        '<section class="related"><h2>相关公告</h2><ul><li><a href="/zwgk/cggg/202311/t20231108_104417.html">'
        '“平安城市”视频监控系统建设项目（二期）招标公告</a></li><li><a href="/zwgk/htgs/202312/t20231229_107203.'
        'html">“平安城市”一期项目合同公示</a></li></ul></section><section class="contact"><h2>联系方式</h2>'
        '<p>采购办公室：0571-8800 2210<br>工作时间：周一至周五 8:30-17:00</p></section>'
    ),
    footer=(
        '<div class="footer-cols"><div><h2>滨江市公安局</h2><address>地址：滨江市江滨大道88号<br>邮编：310051<br>'
        '电话：0571-8800 2000</address></div><div><h2>友情链接</h2><ul><li><a href="https://gov.example/">'
        '滨江市人民政府</a></li><li><a href="https://ccgp.example/">政府采购网</a></li></ul></div></div>'
        '<p class="copyright">版权所有：滨江市公安局　主办单位：滨江市公安局办公室　网站标识码：3301000012　'
        '备案号：滨ICP备12003456号</p>'
    ),
    news=(
        ("2024-04-09", "市公安局召开全市交通安全工作会议", "/jwgk/202404/t20240409_120114.html"),
        ("2024-03-15", "“平安城市”视频监控系统建设项目（二期）中标结果公告", "/zwgk/cggg/202403/t20240315_118842.html"),
        ("2024-03-01", "关于调整出入境证件办理时间的通知", "/zwgk/tzgg/202403/t20240301_117730.html"),
        ("2024-02-20", "2023年全市社会治安形势通报", "/jftb/202402/t20240220_116921.html"),
    ),
    ui={
        "home": "首页",
        "skip": "跳转到主要内容",
        "search_label": "站内搜索",
        "search_button": "搜索",
        "menu": "主菜单",
        "you_are_here": "当前位置：",
        "share": "分享到：微信 · 微博 · 打印本页 · 关闭窗口",
        "updated": "发布日期：2024-03-15　来源：滨江市公安局",
        "nf_title": "页面不存在",
        "nf_h1": "抱歉，您访问的页面不存在",
        "nf_text": (
            "<p>您访问的页面可能已被删除、更名或暂时不可用。</p>"
            "<p>请检查您输入的网址是否正确，或返回<a href=\"/\">网站首页</a>继续浏览。</p>"
        ),
        "home_title": "滨江市公安局",
        "home_lede": "警务公开、办事指南、通知公告。",
        "latest": "最新动态",
        "more": "更多",
    },
)

ZH.articles.update({
    "pacs-zbgg": Article(
        path="/zwgk/cggg/202403/t20240315_118842.html",
        section=("采购公告", "/zwgk/cggg/"),
        title="滨江市“平安城市”视频监控系统建设项目（二期）中标结果公告",
        meta="发布日期：2024-03-15　项目编号：BJCG-2024-0317",
        lede="滨江市公安局“平安城市”视频监控系统建设项目（二期）已完成评标，现将中标结果公告如下。",
        body="""
<h2>一、项目基本情况</h2>
<p>项目编号：BJCG-2024-0317<br>项目名称：滨江市“平安城市”视频监控系统建设项目（二期）<br>
采购方式：公开招标<br>预算金额：人民币 92,000,000.00 元</p>
<h2>二、中标信息</h2>
<table class="notice-data"><tr><th>中标供应商</th><td>滨江安视科技股份有限公司</td></tr>
<tr><th>供应商地址</th><td>滨江市高新区科技路16号</td></tr>
<tr><th>中标金额</th><td>人民币 86,420,000.00 元</td></tr>
<tr><th>服务期限</th><td>合同签订之日起 18 个月</td></tr></table>
<h2>三、主要标的信息</h2>
<p>高清网络摄像机 2,360 台，其中人脸识别摄像机 420 台、车辆卡口 136 套；视频云存储 4.8PB；
市级视频监控指挥中心平台一套。建设范围覆盖主城区 6 个街道及高铁站、客运中心等重点区域。</p>
<h2>四、评审专家名单</h2>
<p>王建华、李敏、张志强、陈丽、刘洋（组长）</p>
<h2>五、公告期限</h2>
<p>自本公告发布之日起 1 个工作日。各有关当事人对中标结果有异议的，可以在中标公告期限届满之日起
7 个工作日内，以书面形式向采购人提出质疑。</p>
<h2>六、联系方式</h2>
<p>采购人：滨江市公安局　联系人：周先生　电话：0571-8800 2210<br>
采购代理机构：滨江市公共资源交易中心　电话：0571-8800 6600</p>
""",
        edits=(
            ("高清网络摄像机 2,360 台", "高清网络摄像机 2,480 台"),
            ("自本公告发布之日起 1 个工作日。", "自本公告发布之日起 3 个工作日。"),
        ),
    ),
})
