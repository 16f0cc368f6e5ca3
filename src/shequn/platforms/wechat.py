"""WeChat exports: importing this module registers both WeChat CSV readers.

- `wechat-memotrace` (wechat_memotrace): MemoTrace / 留痕 `{remark}_utf8.csv`, epoch times.
- `wechat-pywxdump` (wechat_pywxdump): PyWxDump `{wxid}_{i}_{j}.csv` + users.json, local times.

Both share wechat_common (ids, names, quote lookup, CSV) and wechat_system (system lines: joins,
removals, revokes; WeChat never announces voluntary leaves, so WeChat imports have none).
"""

from shequn.platforms import wechat_memotrace, wechat_pywxdump

__all__ = ["wechat_memotrace", "wechat_pywxdump"]
