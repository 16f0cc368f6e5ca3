"""Phrase banks of the learning and maker themes of the demo generator, one item per line.

Kinds: q (a question; lines below it starting with ">" are fitting answers), a (answers for any
question), talk, share (words before a link), file (a file name), checkin, topic (a discussion
window opener), announce, reason (why I joined), and for product groups bug, idea, complain,
praise, plus1 (the same again) and ack (the operator's reply). {slots} are filled by
generate_text.fill, the same slot name with the same value throughout one item.
"""

from __future__ import annotations

STUDY_BANKS: dict[str, dict[str, dict[str, str]]] = {}

STUDY_BANKS["python"] = {
    "zh": {
        "q": """
            {pylib} 怎么安装，一直报超时
            > 换国内镜像源：pip install -i https://pypi.tuna.tsinghua.edu.cn/simple {pylib}
            > 用清华源，快很多
            {pytopic}到底怎么理解
            > {pytopic}先记住用法，用多了自然就懂了
            > 官方文档讲{pytopic}那一节配合例子敲一遍就懂了
            有没有推荐的{pytopic}教程
            > 廖雪峰的教程讲得很清楚
            > B 站有个系列视频讲{pytopic}，搜一下就有
            {pylib} 和 {pylib2} 哪个更适合新手
            > 新手先学 {pylib}，文档友好
            > 看你做什么，两个都不难
            为什么我的代码报 {pyerr}
            > 把报错完整贴出来看看
            > {pyerr} 一般是环境不对，看看 python 和 pip 是不是同一个
            Windows 上怎么配置 Python 环境变量
            > 安装的时候勾选 Add Python to PATH 就行
            > 重装一遍，记得勾 PATH
            如何把 pandas 的结果导出成 CSV
            > df.to_csv('out.csv', index=False)
            > 加上 encoding='utf-8-sig'，Excel 打开不乱码
            学完基础语法下一步学什么
            > 多写小项目，比如爬个天气数据
            > 看你想做什么，数据分析就学 pandas
            有人用 {pylib} 做过项目吗
            > 我们公司在用 {pylib}，挺稳的
            > 用过，小项目够用了
            {pytopic}在实际工作中用得多吗
            > 挺多的，看别人代码的时候到处都是
            > 写业务代码用得不多，但面试常问
            读文件报 UnicodeDecodeError 怎么办
            > open 的时候加 encoding='utf-8'
            > 文件可能是 GBK 编码，试试 encoding='gbk'
        """,
        "a": """
            把报错完整贴出来看看
            我之前也遇到过，升级一下版本就好了
            官方文档就够了，写得很好
        """,
        "talk": """
            最近在用 {pylib} 写一个小工具，挺好玩的
            {pytopic}我看了三遍才看懂😂
            我们公司新项目都上 Python 3.12 了
            感觉 {pylib} 比 {pylib2} 好上手
            今天终于把{pytopic}搞明白了
            写了个脚本每天自动整理报表，省了一小时
            类型注解加上之后 bug 少了很多
            面试被问到{pytopic}，还好之前在群里学过
            {pylib} 新版本改了好多 API，升级踩坑了
            刷了一晚上 LeetCode，脑子不够用了
            用 {pylib} 把公司的 Excel 流程自动化了，老板很满意
            推荐大家用 uv 管理环境，速度飞快
        """,
        "share": """
            分享一篇讲{pytopic}的文章，写得很清楚
            整理了一份 {pylib} 速查表
            这个视频讲{pytopic}讲得不错
        """,
        "file": """
            Python入门笔记.pdf
            第{n2}周练习题.ipynb
            {pylib}速查表.pdf
            爬虫实战代码.zip
        """,
        "checkin": """
            学习打卡 Day {n}：{pytopic}
            打卡第{n}天，今天学了{pytopic}
        """,
        "reason": """
            想来学习 Python
            想转行做数据分析
            工作中要写自动化脚本
        """,
    },
    "en": {
        "q": """
            How do I install {pylib} on Windows
            > Try a fresh venv: python -m venv .venv, then pip install {pylib}
            > Use py -m pip install {pylib}
            Why does my script throw {pyerr_en}
            > Paste the full traceback and we'll take a look
            > That usually means pip and python point to different installs
            Anyone using {pylib} in production
            > We run {pylib} in prod, no complaints
            > Yes, for a couple of internal tools
            What's the best way to learn {pytopic_en}
            > The official docs are great for {pytopic_en}
            > Write a tiny project that needs them
            Does {pylib} work with Python 3.12
            > Yes, the latest release supports 3.12
            > Works fine for me on 3.12
        """,
        "talk": """
            Been playing with {pylib} this week, really nice
            {pytopic_en} finally clicked for me today
            Type hints saved me from a nasty bug yesterday
            Rewrote my scraper with {pylib}, 3x faster
            Finally moved our team to uv, no regrets
        """,
        "checkin": """
            Day {n} done ✅ {pytopic_en}
            Day {n}: practiced {pytopic_en}
        """,
        "reason": """
            Learning Python for data work
            Want to automate the boring stuff at work
        """,
    },
}

STUDY_BANKS["ai"] = {
    "zh": {
        "q": """
            {aitool} 和 {aitool2} 写代码哪个好用
            > 我用 {aitool} 比较多，写代码很稳
            > 各有优势，{aitool2} 上下文更长
            有没有免费的 AI 画图工具推荐
            > 可以试试 Stable Diffusion 本地跑，免费
            > ComfyUI 上手难一点但很灵活
            {aitool} 的 API 国内怎么调用
            > 走官方 API 就行，注意别泄露 key
            > 公司一般走云厂商的代理
            本地部署大模型需要什么显卡
            > 本地跑 7B 的模型 16G 显存够了
            > 想跑 70B 得多卡了
            用 {aitool} 写周报大家怎么写提示词
            > 提示词里先给角色和例子，效果会好很多
            > 把本周的待办丢进去让它总结
            {aitool} 最近是不是变慢了
            > 晚上高峰期会慢一点
            > 我这边还好
        """,
        "talk": """
            {aitool} 新版本出来了，试了下图片理解很强
            我现在写文档都先让 {aitool} 出初稿
            AI 工具更新太快了，学不过来
            用 {aitool} 做了个小程序，一晚上就搞定
            感觉 {aitool} 的中文比 {aitool2} 自然
            公司开始要求大家用 AI 写测试用例了
        """,
        "reason": """
            想学习怎么用 AI 提高效率
            在做 AI 应用，来交流
        """,
    },
    "en": {
        "q": """
            Anyone compared {aitool} vs {aitool2} for coding
            > I switched to {aitool}, much better for refactors
            > {aitool2} is faster for small edits
            What GPU do you need to run a 7B model locally
            > A 7B model runs fine on 16GB VRAM
            > Quantized, it even runs on a laptop
            How do you keep prompts consistent across a team
            > We keep a shared prompt library in Notion
            > Templates in the repo, reviewed like code
        """,
        "talk": """
            {aitool} just shipped a new version, the vision stuff is wild
            Hot take: most AI wrappers won't survive next year
            Used {aitool} to write all our release notes this week
        """,
    },
}

STUDY_BANKS["indie"] = {
    "zh": {
        "q": """
            Stripe 国内个人怎么开通
            > 可以用香港公司开 Stripe
            > 个人的话可以先用 Paddle 或 Lemon Squeezy
            独立开发的产品一般怎么定价
            > 先定低一点，有用户了再涨价
            > 参考竞品，再做个年付折扣
            上架 App Store 被拒了怎么处理
            > 仔细看拒绝理由，按条改了再提
            > 可以在 Resolution Center 跟审核沟通
            有没有人用过 Paddle 收款
            > Paddle 不用自己处理税，省心
            > 用过，费率稍高但省事
            Product Hunt 发布有什么经验
            > 发布前先攒一波邮件列表
            > 选周二周三发，太平洋时间零点
            海外服务器大家用哪家
            > 用 Cloudflare + Vercel 基本够了
            > 小项目 Hetzner 性价比很高
        """,
        "talk": """
            我的小工具这个月 MRR 突破 ${mrr} 了🎉
            做 SEO 真的是长期主义
            今天又被 App Store 拒了一次😭
            出海第一步还是先找到愿意付费的用户
            冷启动靠 Reddit 发帖，来了第一批用户
            退款率有点高，在想是不是定价的问题
        """,
        "reason": """
            在做一个出海小工具
            想找志同道合的独立开发者
        """,
    },
    "en": {
        "q": """
            How are you pricing your SaaS for the first customers
            > Start higher than you think, you can always discount
            > We did $9/mo and regretted it
            Anyone launched on Product Hunt recently, was it worth it
            > PH gave us a spike but retention came from SEO
            > Worth it for the backlinks alone
            Stripe or Paddle for a solo founder
            > Paddle handles VAT for you, huge time saver
            > Stripe if you want control, Paddle if you want sleep
            What's your stack for landing pages
            > Astro + Vercel, done in a day
            > Framer, no code needed
        """,
        "talk": """
            Just crossed ${mrr} MRR on my side project 🎉
            Shipped a landing page in an afternoon with Astro
            Cold emails still work if you keep them short
            Churn is the silent killer
            Talked to 10 users this week, learned more than in a month of coding
            Building in public is scary but it works
        """,
        "reason": """
            Building a small SaaS on the side
            Just quit my job to go indie
        """,
    },
}

STUDY_BANKS["rust"] = {
    "zh": {
        "q": """
            Rust 所有权和借用怎么理解
            > 先把 The Book 第4章看完，再刷 rustlings
            生命周期标注什么时候必须写
            > 编译器报错的时候再加，照着提示改
            > 函数返回引用的时候一般要写
            新手先看哪本书好
            > 《Rust 程序设计语言》，官方中文版免费
        """,
        "talk": """
            今天又被借用检查器教育了😂
            终于写出第一个能跑的 CLI 了
            cargo clippy 真的能学到很多
        """,
    },
    "en": {
        "q": """
            How do lifetimes work with structs
            > Read chapter 10 of the book, it clicks after
            Is Rust worth learning as a first language
            > Doable, but start with rustlings
        """,
        "talk": """
            The borrow checker got me again 😅
            cargo clippy taught me so much
        """,
    },
}

STUDY_BANKS["design"] = {
    "en": {
        "q": """
            Does this onboarding flow feel too long
            > I'd cut step 3, it repeats step 1
            > Could you merge the last two screens
            Which of these two palettes reads better
            > Option B, the contrast is better
            > B, but check it in dark mode
            How do you handle empty states in dashboards
            > Show a helpful action instead of a blank table
            Any tips for presenting to execs
            > Lead with the user problem, then the solution
            > One slide, one message
        """,
        "talk": """
            Auto layout is a game changer
            Dark patterns in cancel flows need to die
            Shipped the new settings page today
            Spacing is 80% of good UI
            Usability test today: 4 of 5 people missed the save button
        """,
        "share": """
            Latest iteration, feedback welcome
            Here's the flow we tested
        """,
        "file": """
            onboarding-v{n2}.fig
            settings-redesign.pdf
            mobile-nav-explorations.png
        """,
        "topic": """
            🎨 Crit session starts now. Drop your work in the thread!
        """,
        "reason": """
            Looking for honest feedback on my work
            Junior designer, here to learn
        """,
    },
}

STUDY_BANKS["dataviz"] = {
    "en": {
        "q": """
            What's your go-to library for interactive charts
            > {dvlib} is great for quick exploration
            When would you pick {chart} over a bar chart
            > Depends on the story you tell
            > When there are too many categories for bars
            Is {dvlib} worth learning
            > Definitely, the docs are superb
            > Only if you need custom visuals
        """,
        "talk": """
            Rebuilt our KPI dashboard in {dvlib}
            Pie charts are fine, fight me
        """,
    },
}
