"""Synthetic Chinese names for seed data, and the masking every displayed name goes through.

The seed names are drawn from common surnames and given-name characters: plausible, invented,
never taken from a real roster.
"""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国文斌宇浩凯鹏辉志晨欣怡佳琳雪梅婷雯"
    "海波春燕晓东亮瑞德祥福安康宁朝阳光荣新立振兴永成俊峰岚慧颖思远卫红云松柏青山"
)


def synthetic_name(rng: random.Random) -> str:
    """Surname and one or two given-name characters."""
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def mask_name(name: str) -> str:
    """张伟 → 张*, 王晓东 → 王*东, 欧阳娜娜 → 欧**娜: enough to recognise, not to identify."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
