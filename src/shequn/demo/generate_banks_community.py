"""Phrase banks of the product-feedback and community themes (format: see generate_banks)."""

from __future__ import annotations

COMMUNITY_BANKS: dict[str, dict[str, dict[str, str]]] = {}

COMMUNITY_BANKS["beta"] = {
    "zh": {
        "q": """
            {feature}在哪里设置
            > {feature}在右上角的更多里面
            > 设置 → 通用 → {feature}
            怎么把笔记导出成 PDF
            > 长按笔记就有导出选项
            > 右上角分享 → 导出 PDF
            内测版会不会覆盖正式版的数据
            > 不会覆盖的，放心
            > 内测版是单独的数据空间
            多设备同步要开会员吗
            > 免费版可以同步两台设备
            > 三台以上要开会员
            新版本的{feature}怎么用
            > 群公告里有使用说明
            > 长按就会出现{feature}的选项
            有没有快捷键列表
            > 快捷键在帮助菜单里
            > 按 Ctrl+/ 就能看到
        """,
        "talk": """
            新版{feature}好用多了
            我主要用来记读书笔记
            感觉比之前流畅一些
            期待下个版本
            我们团队现在都用它记会议纪要
            {feature}配合标签用起来很顺手
            从印象笔记搬过来了，还在适应
        """,
        "announce": """
            【内测公告】{ver} 已发布：修复了{screen}闪退，新增{wish}，欢迎体验后反馈
            【内测公告】本周五晚上 8 点产品经理在线答疑，有问题可以先在群里留言
        """,
        "reason": """
            想体验新功能，顺便反馈问题
            知了笔记老用户了，来支持一下
        """,
        "bug": """
            {screen}闪退了
            闪退了
            一打开{screen}就闪退
            点{button}没反应
            升级到 {ver} 后很卡顿
            {feature}同步失败，一直在转圈
            导出 PDF 报错：{errcode}
            {device}上{screen}显示不全
            图片上传失败，提示网络错误，但网络是好的
            发现一个bug：{feature}里的内容会重复
        """,
        "idea": """
            建议加一个{wish}功能
            希望能加{wish}
            能不能支持{wish}
            建议{feature}可以自定义
        """,
        "complain": """
            {feature}入口太深了，找了半天
            更新后字体变小了，看着很累
            会员价格有点贵
            每次打开都要重新登录，太麻烦了
        """,
        "praise": """
            新版{feature}太好用了👍
            同步速度快多了，点赞
            界面改得很清爽，喜欢
            {feature}解决了我的大问题，感谢
        """,
        "plus1": """
            +1
            我也是
            闪退了
            我这边也闪退
            同样的问题
            +1，{device}也有这个问题
            我也遇到了
        """,
        "ack": """
            收到，已经反馈给产品同学了🙏
            感谢反馈，我们排查一下
            麻烦私聊发一下手机型号和版本号
            已记录，下个版本修复
            好建议，已加到需求池
        """,
    },
    "en": {
        "q": """
            Where do I find the {feature_en} settings
            > Settings → General → {feature_en}
            > Top-right menu, under More
            Is there a way to export everything
            > File → Export all
            > Yes, Settings → Account → Export
            Does the beta overwrite my production data
            > No, the beta uses a separate workspace
            How do I switch back to the stable build
            > Uninstall the beta and reinstall from the store
        """,
        "talk": """
            I mostly use it for meeting notes
            The new editor feels snappier
            Looking forward to the next build
            Switched my whole team over last week
            Moved everything over from Evernote, still getting used to it
        """,
        "announce": """
            📣 Beta {ver} is out: fixed the {feature_en} crash, added {wish_en}. Tell us what breaks
            📣 Office hours with the PM on Friday 10am PT, drop your questions here
        """,
        "reason": """
            Long-time user, happy to help test
            Our team relies on Notely daily
        """,
        "bug": """
            The app crashes when I {action_en}
            Sync is stuck on "{status_en}" since this morning
            Getting error {errcode} when exporting to PDF
            The {feature_en} screen is really slow after updating to {ver}
            Found a bug: {feature_en} duplicates my notes
            Crash on launch on {device_en}
            crashes again 😩
        """,
        "idea": """
            Please add {wish_en}
            Would love {wish_en}
            Feature request: {wish_en}
        """,
        "complain": """
            The new {feature_en} layout is confusing
            Onboarding took way too long
            Pricing feels steep for a notes app
        """,
        "praise": """
            Love the new {feature_en}!
            Sync is so much faster now, great job
            The {feature_en} update is exactly what I needed 🙌
        """,
        "plus1": """
            +1
            Same here
            Same crash on {device_en}
            Can confirm
            Happening to me too
        """,
        "ack": """
            Thanks, logged it! 🙏
            Could you DM me your app version and device?
            Fix is in the next build
            Great idea, added to the roadmap board
        """,
    },
}

COMMUNITY_BANKS["shops"] = {
    "zh": {
        "q": """
            店掌柜怎么设置会员折扣
            > 后台 → 营销 → 会员价就能设置
            小票打印机连不上怎么办
            > 重启一下打印机，再重新配对蓝牙
            > 看看是不是纸没装好，我上次就是
            {holiday}大家准备做什么活动
            > 我们店做满减，效果还不错
            > 打算搞个第二杯半价
            美团和抖音团购哪个效果好
            > 抖音团购引流快，但利润薄
            > 美团复购更稳定
            怎么提高复购率
            > 建个会员群，定期发福利
            > 办储值卡，充200送20
            有没有好用的进货渠道
            > 1688 上找厂家直供
            > 本地批发市场其实更灵活
        """,
        "talk": """
            今天店里生意不错
            最近房租又涨了😮‍💨
            {holiday}备货备多了
            新品上架一周卖了两百多份
            周末客流比平时多一倍
            招人太难了，店员又走了一个
        """,
        "reason": """
            开了一家奶茶店，想跟大家交流经营经验
            刚接手家里的超市，来学习
        """,
        "bug": """
            {pos}卡顿，顾客排长队
            {pos}报错
            店掌柜又闪退了
            会员积分不同步
            对账金额对不上
        """,
        "idea": """
            希望能加库存预警
            建议支持多门店对账
            能不能加个员工排班功能
        """,
        "complain": """
            客服电话一直打不通
            手续费有点高
            {pos}每次更新都要重新设置
        """,
        "praise": """
            新版对账页面很清楚👍
            {pos}比以前快多了
        """,
        "plus1": """
            +1
            我们店也是
            我也闪退了
            同样的问题
            我这也{pos}卡顿
        """,
        "ack": """
            收到，已反馈给技术，今天内回复各位
            麻烦私聊发一下门店编号
            感谢反馈，已记录
        """,
    },
}

COMMUNITY_BANKS["running"] = {
    "zh": {
        "q": """
            跑鞋大家推荐哪款
            > 新手推荐缓震好的，比如 {shoe}
            > 去店里试穿最靠谱
            膝盖疼还能跑吗
            > 膝盖疼先休息，别硬跑
            > 建议去医院看看，别拖
            配速怎么提高
            > 多跑间歇，配速自然就上来了
            > 先把跑量堆上去
            第一次跑半马要注意什么
            > 半马前一周减量，比赛当天别冲太快
            > 补给带好，能量胶每5公里一个
            {city}有没有适合夜跑的路线
            > 绿道那边不错，晚上人也多
            > 江边那条路灯光好
            冬天跑步穿什么
            > 速干衣加防风外套就够
            > 洋葱式穿法，热了就脱
        """,
        "talk": """
            今天跑得很舒服
            下雨了，今天改跑步机
            报名了{race}，一起冲
            终于跑进了 5 分配
            周末约了几个跑友去爬山
            新买的 {shoe} 到了，明天试跑
        """,
        "checkin": """
            打卡 第{n}天 {km}公里
            #跑步打卡 第{n}天 {km}km 配速{pace}
            签到 第{n}天 ✅ 晨跑{km}公里，{feel}
            Day{n} {km}公里 打卡
        """,
        "reason": """
            想养成跑步的习惯
            准备明年跑全马
            体检指标不太好，想动起来
        """,
    },
}

COMMUNITY_BANKS["book"] = {
    "zh": {
        "q": """
            这周读到哪一章了
            > 这周读到第{n2}章，进度不算快
            > 我落后了，还在第{n2}章
            《{book}》有电子版吗
            > 微信读书上有
            > 群文件里有试读版
            读不进去书怎么办
            > 先从感兴趣的章节读起
            > 每天定个20分钟，别贪多
            大家一般怎么做读书笔记
            > 我用卡片笔记，一页写一个观点
            > 划线加一句自己的想法
        """,
        "talk": """
            《{book}》第{n2}章讲得太好了
            这本书让我重新思考了工作和生活
            同意楼上，这段我也划线了
            读到这里有点感动
            作者这个观点我不太认同
            第{n2}章的例子和我最近的经历很像
            这本书适合慢慢读
        """,
        "checkin": """
            #读书打卡 第{n}天 《{book}》 读了{pages}页
            打卡第{n}天，今天读《{book}》，{thought}
        """,
        "topic": """
            【今晚话题】《{book}》里你最认同的一个观点是什么？
            【今晚话题】读完第{n2}章，你有什么新的想法？
        """,
        "announce": """
            【群公告】本月共读《{book}》，工作日晚 19:20–20:00 线上讨论，请准时参加
        """,
        "reason": """
            想每天坚持读书
            朋友推荐来的，想找人一起读
        """,
    },
}

COMMUNITY_BANKS["parents"] = {
    "zh": {
        "q": """
            宝宝{age}了还不会说话正常吗
            > 每个孩子不一样，别太焦虑
            > 多跟宝宝说话，实在担心去儿保问问
            辅食先加米粉还是蛋黄
            > 先加高铁米粉，一次一种
            > 现在一般建议先米粉，蛋黄晚一点
            孩子晚上总是醒怎么办
            > 睡前别玩太兴奋，固定作息
            > 试试{tip}
            {city}有没有好的早教推荐
            > 我家在上的那家还行，私聊你
            > 其实自己在家陪玩就很好
            幼儿园报名要准备什么材料
            > 户口本、出生证明、疫苗本都要带
            > 每个区不一样，看教育局公众号
            孩子发烧38度要去医院吗
            > 精神好的话先物理降温观察一下
            > 超过38.5或者精神不好就去医院
        """,
        "talk": """
            今天带娃去公园玩了一天，累瘫
            我家宝宝终于会叫妈妈了🥹
            分享一个哄睡小技巧：{tip}
            又是被娃吵醒的一天
            幼儿园第一天，娃没哭，我哭了
        """,
        "reason": """
            宝宝刚一岁，想跟大家学习经验
            二胎妈妈，来交流
        """,
    },
}
