"""Vectorisable copies of glibc's exp and log (the functions numba's ``np.exp``/``np.log`` call on
Linux), equal to them bit for bit where they apply, for the trial blocks of the monojet kernels.

Why: a call to the C library cannot be vectorised (numba has no vector maths library here), and
:func:`evtgen.kinematics.exp_vec`/``log_vec`` (fdlibm) differ from glibc in the last bit for a
few per cent of the arguments, which would change the bits of x₁, x₂ and ŝ of every such event.
These copies give the numbers of glibc 2.28+'s double-precision exp and log (Szabolcs Nagy's
algorithms from Arm's optimized-routines, MIT licence; glibc's ``sysdeps/ieee754/dbl-64/e_exp.c``,
``e_log.c``) as compiled for x86-64 CPUs with FMA (glibc's ``__exp_fma``/``__log_fma``: the
products are fused where GCC contracts them, reproduced with ``llvm.fma``). The tables below are
those of ``e_exp_data.c`` and ``e_log_data.c`` (read from glibc 2.36's libm.so.6 and checked
against its exp and log on 4.5 and 5 million arguments: no difference). Published source: Arm's
optimized-routines, ``math/exp_data.c`` (N = 128, EXP_POLY_ORDER = 5: ``tab``, ``poly``,
``invln2N``, ``negln2hiN``/``loN``, ``shift``) and ``math/log_data.c`` (N = 128, LOG_POLY_ORDER = 6:
``tab``, ``poly``, ``ln2hi``/``lo``), Copyright Arm Limited, MIT OR Apache-2.0 WITH LLVM-exception;
every entry of both tables and every coefficient here equals that source (checked entry by entry
against github.com/ARM-software/optimized-routines at e17e986, 2026-06-29).

Where they do not apply they say so (:func:`exp_glibc_applies`, :func:`log_glibc_applies`:
|x| < 2^-54 or |x| >= 512 for exp; x within [1 - 2^-4, 1 + 0x1.09p-4), subnormal, negative,
zero or non-finite for log): the caller then calls ``np.exp``/``np.log`` for that argument.
On a machine whose libm is not glibc's FMA variant the copies still give these numbers (exact
to 0.51 ulp), so events can differ from that libm's in the last bit; they are the same on every
machine.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from evtgen.kinematics import bits_to_f64, f64_to_bits


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c rounded once (``llvm.fma.f64``: one vfmadd instruction on CPUs with FMA)."""
    sig = types.float64(a, b, c)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()] * 3)
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f64")
        return builder.call(fn, [context.cast(builder, v, t, types.float64) for v, t in zip(args, signature.args)])

    return sig, codegen


_H = float.fromhex
# e_exp_data.c: N/ln2, -ln2/N (hi, lo), the polynomial C2..C5, the rounding shift; N = 128
_INVLN2N = _H("0x1.71547652b82fep+7")
_NEGLN2HIN = _H("-0x1.62e42fefa0000p-8")
_NEGLN2LON = _H("-0x1.cf79abc9e3b3ap-47")
_C2, _C3, _C4, _C5 = (
    _H(v) for v in ("0x1.ffffffffffdbdp-2", "0x1.555555555543cp-3", "0x1.55555cf172b91p-5", "0x1.1111167a4d017p-7")
)
_SHIFT = _H("0x1.8p52")
# e_log_data.c: ln 2 (hi, lo), the polynomial A0..A4; N = 128, OFF = 0x3fe6000000000000
_LN2HI = _H("0x1.62e42fefa3800p-1")
_LN2LO = _H("0x1.ef35793c76730p-45")
_A0, _A1, _A2, _A3, _A4 = (
    _H(v)
    for v in (
        "-0x1.0000000000001p-1",
        "0x1.555555551305bp-2",
        "-0x1.fffffffeb4590p-3",
        "0x1.999b324f10111p-3",
        "-0x1.55575e506c89fp-3",
    )
)
_OFF = np.uint64(0x3FE6000000000000)
_NEAR1_LO = np.uint64(0x3FEE000000000000)  # bits of 1 - 2^-4
_NEAR1_SPAN = np.uint64(0x3FF1090000000000 - 0x3FEE000000000000)  # up to 1 + 0x1.09p-4

# e_exp_data.c tab[2 k], tab[2 k + 1]: (bits of the tail, bits of 2^(k/N) - (k << 45)), k = 0..127
EXP_TAB = np.array(
    [
        0x0000000000000000,
        0x3FF0000000000000,
        0x3C9B3B4F1A88BF6E,
        0x3FEFF63DA9FB3335,
        0xBC7160139CD8DC5D,
        0x3FEFEC9A3E778061,
        0xBC905E7A108766D1,
        0x3FEFE315E86E7F85,
        0x3C8CD2523567F613,
        0x3FEFD9B0D3158574,
        0xBC8BCE8023F98EFA,
        0x3FEFD06B29DDF6DE,
        0x3C60F74E61E6C861,
        0x3FEFC74518759BC8,
        0x3C90A3E45B33D399,
        0x3FEFBE3ECAC6F383,
        0x3C979AA65D837B6D,
        0x3FEFB5586CF9890F,
        0x3C8EB51A92FDEFFC,
        0x3FEFAC922B7247F7,
        0x3C3EBE3D702F9CD1,
        0x3FEFA3EC32D3D1A2,
        0xBC6A033489906E0B,
        0x3FEF9B66AFFED31B,
        0xBC9556522A2FBD0E,
        0x3FEF9301D0125B51,
        0xBC5080EF8C4EEA55,
        0x3FEF8ABDC06C31CC,
        0xBC91C923B9D5F416,
        0x3FEF829AAEA92DE0,
        0x3C80D3E3E95C55AF,
        0x3FEF7A98C8A58E51,
        0xBC801B15EAA59348,
        0x3FEF72B83C7D517B,
        0xBC8F1FF055DE323D,
        0x3FEF6AF9388C8DEA,
        0x3C8B898C3F1353BF,
        0x3FEF635BEB6FCB75,
        0xBC96D99C7611EB26,
        0x3FEF5BE084045CD4,
        0x3C9AECF73E3A2F60,
        0x3FEF54873168B9AA,
        0xBC8FE782CB86389D,
        0x3FEF4D5022FCD91D,
        0x3C8A6F4144A6C38D,
        0x3FEF463B88628CD6,
        0x3C807A05B0E4047D,
        0x3FEF3F49917DDC96,
        0x3C968EFDE3A8A894,
        0x3FEF387A6E756238,
        0x3C875E18F274487D,
        0x3FEF31CE4FB2A63F,
        0x3C80472B981FE7F2,
        0x3FEF2B4565E27CDD,
        0xBC96B87B3F71085E,
        0x3FEF24DFE1F56381,
        0x3C82F7E16D09AB31,
        0x3FEF1E9DF51FDEE1,
        0xBC3D219B1A6FBFFA,
        0x3FEF187FD0DAD990,
        0x3C8B3782720C0AB4,
        0x3FEF1285A6E4030B,
        0x3C6E149289CECB8F,
        0x3FEF0CAFA93E2F56,
        0x3C834D754DB0ABB6,
        0x3FEF06FE0A31B715,
        0x3C864201E2AC744C,
        0x3FEF0170FC4CD831,
        0x3C8FDD395DD3F84A,
        0x3FEEFC08B26416FF,
        0xBC86A3803B8E5B04,
        0x3FEEF6C55F929FF1,
        0xBC924AEDCC4B5068,
        0x3FEEF1A7373AA9CB,
        0xBC9907F81B512D8E,
        0x3FEEECAE6D05D866,
        0xBC71D1E83E9436D2,
        0x3FEEE7DB34E59FF7,
        0xBC991919B3CE1B15,
        0x3FEEE32DC313A8E5,
        0x3C859F48A72A4C6D,
        0x3FEEDEA64C123422,
        0xBC9312607A28698A,
        0x3FEEDA4504AC801C,
        0xBC58A78F4817895B,
        0x3FEED60A21F72E2A,
        0xBC7C2C9B67499A1B,
        0x3FEED1F5D950A897,
        0x3C4363ED60C2AC11,
        0x3FEECE086061892D,
        0x3C9666093B0664EF,
        0x3FEECA41ED1D0057,
        0x3C6ECCE1DAA10379,
        0x3FEEC6A2B5C13CD0,
        0x3C93FF8E3F0F1230,
        0x3FEEC32AF0D7D3DE,
        0x3C7690CEBB7AAFB0,
        0x3FEEBFDAD5362A27,
        0x3C931DBDEB54E077,
        0x3FEEBCB299FDDD0D,
        0xBC8F94340071A38E,
        0x3FEEB9B2769D2CA7,
        0xBC87DECCDC93A349,
        0x3FEEB6DAA2CF6642,
        0xBC78DEC6BD0F385F,
        0x3FEEB42B569D4F82,
        0xBC861246EC7B5CF6,
        0x3FEEB1A4CA5D920F,
        0x3C93350518FDD78E,
        0x3FEEAF4736B527DA,
        0x3C7B98B72F8A9B05,
        0x3FEEAD12D497C7FD,
        0x3C9063E1E21C5409,
        0x3FEEAB07DD485429,
        0x3C34C7855019C6EA,
        0x3FEEA9268A5946B7,
        0x3C9432E62B64C035,
        0x3FEEA76F15AD2148,
        0xBC8CE44A6199769F,
        0x3FEEA5E1B976DC09,
        0xBC8C33C53BEF4DA8,
        0x3FEEA47EB03A5585,
        0xBC845378892BE9AE,
        0x3FEEA34634CCC320,
        0xBC93CEDD78565858,
        0x3FEEA23882552225,
        0x3C5710AA807E1964,
        0x3FEEA155D44CA973,
        0xBC93B3EFBF5E2228,
        0x3FEEA09E667F3BCD,
        0xBC6A12AD8734B982,
        0x3FEEA012750BDABF,
        0xBC6367EFB86DA9EE,
        0x3FEE9FB23C651A2F,
        0xBC80DC3D54E08851,
        0x3FEE9F7DF9519484,
        0xBC781F647E5A3ECF,
        0x3FEE9F75E8EC5F74,
        0xBC86EE4AC08B7DB0,
        0x3FEE9F9A48A58174,
        0xBC8619321E55E68A,
        0x3FEE9FEB564267C9,
        0x3C909CCB5E09D4D3,
        0x3FEEA0694FDE5D3F,
        0xBC7B32DCB94DA51D,
        0x3FEEA11473EB0187,
        0x3C94ECFD5467C06B,
        0x3FEEA1ED0130C132,
        0x3C65EBE1ABD66C55,
        0x3FEEA2F336CF4E62,
        0xBC88A1C52FB3CF42,
        0x3FEEA427543E1A12,
        0xBC9369B6F13B3734,
        0x3FEEA589994CCE13,
        0xBC805E843A19FF1E,
        0x3FEEA71A4623C7AD,
        0xBC94D450D872576E,
        0x3FEEA8D99B4492ED,
        0x3C90AD675B0E8A00,
        0x3FEEAAC7D98A6699,
        0x3C8DB72FC1F0EAB4,
        0x3FEEACE5422AA0DB,
        0xBC65B6609CC5E7FF,
        0x3FEEAF3216B5448C,
        0x3C7BF68359F35F44,
        0x3FEEB1AE99157736,
        0xBC93091FA71E3D83,
        0x3FEEB45B0B91FFC6,
        0xBC5DA9B88B6C1E29,
        0x3FEEB737B0CDC5E5,
        0xBC6C23F97C90B959,
        0x3FEEBA44CBC8520F,
        0xBC92434322F4F9AA,
        0x3FEEBD829FDE4E50,
        0xBC85CA6CD7668E4B,
        0x3FEEC0F170CA07BA,
        0x3C71AFFC2B91CE27,
        0x3FEEC49182A3F090,
        0x3C6DD235E10A73BB,
        0x3FEEC86319E32323,
        0xBC87C50422622263,
        0x3FEECC667B5DE565,
        0x3C8B1C86E3E231D5,
        0x3FEED09BEC4A2D33,
        0xBC91BBD1D3BCBB15,
        0x3FEED503B23E255D,
        0x3C90CC319CEE31D2,
        0x3FEED99E1330B358,
        0x3C8469846E735AB3,
        0x3FEEDE6B5579FDBF,
        0xBC82DFCD978E9DB4,
        0x3FEEE36BBFD3F37A,
        0x3C8C1A7792CB3387,
        0x3FEEE89F995AD3AD,
        0xBC907B8F4AD1D9FA,
        0x3FEEEE07298DB666,
        0xBC55C3D956DCAEBA,
        0x3FEEF3A2B84F15FB,
        0xBC90A40E3DA6F640,
        0x3FEEF9728DE5593A,
        0xBC68D6F438AD9334,
        0x3FEEFF76F2FB5E47,
        0xBC91EEE26B588A35,
        0x3FEF05B030A1064A,
        0x3C74FFD70A5FDDCD,
        0x3FEF0C1E904BC1D2,
        0xBC91BDFBFA9298AC,
        0x3FEF12C25BD71E09,
        0x3C736EAE30AF0CB3,
        0x3FEF199BDD85529C,
        0x3C8EE3325C9FFD94,
        0x3FEF20AB5FFFD07A,
        0x3C84E08FD10959AC,
        0x3FEF27F12E57D14B,
        0x3C63CDAF384E1A67,
        0x3FEF2F6D9406E7B5,
        0x3C676B2C6C921968,
        0x3FEF3720DCEF9069,
        0xBC808A1883CCB5D2,
        0x3FEF3F0B555DC3FA,
        0xBC8FAD5D3FFFFA6F,
        0x3FEF472D4A07897C,
        0xBC900DAE3875A949,
        0x3FEF4F87080D89F2,
        0x3C74A385A63D07A7,
        0x3FEF5818DCFBA487,
        0xBC82919E2040220F,
        0x3FEF60E316C98398,
        0x3C8E5A50D5C192AC,
        0x3FEF69E603DB3285,
        0x3C843A59AC016B4B,
        0x3FEF7321F301B460,
        0xBC82D52107B43E1F,
        0x3FEF7C97337B9B5F,
        0xBC892AB93B470DC9,
        0x3FEF864614F5A129,
        0x3C74B604603A88D3,
        0x3FEF902EE78B3FF6,
        0x3C83C5EC519D7271,
        0x3FEF9A51FBC74C83,
        0xBC8FF7128FD391F0,
        0x3FEFA4AFA2A490DA,
        0xBC8DAE98E223747D,
        0x3FEFAF482D8E67F1,
        0x3C8EC3BC41AA2008,
        0x3FEFBA1BEE615A27,
        0x3C842B94C3A9EB32,
        0x3FEFC52B376BBA97,
        0x3C8A64A931D185EE,
        0x3FEFD0765B6E4540,
        0xBC8E37BAE43BE3ED,
        0x3FEFDBFDAD9CBE14,
        0x3C77893B4D91CD9D,
        0x3FEFE7C1819E90D8,
        0x3C5305C14160CC89,
        0x3FEFF3C22B8F71F1,
    ],
    dtype=np.uint64,
)
# e_log_data.c tab[i] = (invc, logc), i = 0..127, flattened (hexadecimal floats)
LOG_TAB = np.array(
    [
        float.fromhex(v)
        for v in (
            "0x1.734f0c3e0de9fp+0",
            "-0x1.7cc7f79e69000p-2",
            "0x1.713786a2ce91fp+0",
            "-0x1.76feec20d0000p-2",
            "0x1.6f26008fab5a0p+0",
            "-0x1.713e31351e000p-2",
            "0x1.6d1a61f138c7dp+0",
            "-0x1.6b85b38287800p-2",
            "0x1.6b1490bc5b4d1p+0",
            "-0x1.65d5590807800p-2",
            "0x1.69147332f0cbap+0",
            "-0x1.602d076180000p-2",
            "0x1.6719f18224223p+0",
            "-0x1.5a8ca86909000p-2",
            "0x1.6524f99a51ed9p+0",
            "-0x1.54f4356035000p-2",
            "0x1.63356aa8f24c4p+0",
            "-0x1.4f637c36b4000p-2",
            "0x1.614b36b9ddc14p+0",
            "-0x1.49da7fda85000p-2",
            "0x1.5f66452c65c4cp+0",
            "-0x1.445923989a800p-2",
            "0x1.5d867b5912c4fp+0",
            "-0x1.3edf439b0b800p-2",
            "0x1.5babccb5b90dep+0",
            "-0x1.396ce448f7000p-2",
            "0x1.59d61f2d91a78p+0",
            "-0x1.3401e17bda000p-2",
            "0x1.5805612465687p+0",
            "-0x1.2e9e2ef468000p-2",
            "0x1.56397cee76bd3p+0",
            "-0x1.2941b3830e000p-2",
            "0x1.54725e2a77f93p+0",
            "-0x1.23ec58cda8800p-2",
            "0x1.52aff42064583p+0",
            "-0x1.1e9e129279000p-2",
            "0x1.50f22dbb2bddfp+0",
            "-0x1.1956d2b48f800p-2",
            "0x1.4f38f4734ded7p+0",
            "-0x1.141679ab9f800p-2",
            "0x1.4d843cfde2840p+0",
            "-0x1.0edd094ef9800p-2",
            "0x1.4bd3ec078a3c8p+0",
            "-0x1.09aa518db1000p-2",
            "0x1.4a27fc3e0258ap+0",
            "-0x1.047e65263b800p-2",
            "0x1.4880524d48434p+0",
            "-0x1.feb224586f000p-3",
            "0x1.46dce1b192d0bp+0",
            "-0x1.f474a7517b000p-3",
            "0x1.453d9d3391854p+0",
            "-0x1.ea4443d103000p-3",
            "0x1.43a2744b4845ap+0",
            "-0x1.e020d44e9b000p-3",
            "0x1.420b54115f8fbp+0",
            "-0x1.d60a22977f000p-3",
            "0x1.40782da3ef4b1p+0",
            "-0x1.cc00104959000p-3",
            "0x1.3ee8f5d57fe8fp+0",
            "-0x1.c202956891000p-3",
            "0x1.3d5d9a00b4ce9p+0",
            "-0x1.b81178d811000p-3",
            "0x1.3bd60c010c12bp+0",
            "-0x1.ae2c9ccd3d000p-3",
            "0x1.3a5242b75dab8p+0",
            "-0x1.a45402e129000p-3",
            "0x1.38d22cd9fd002p+0",
            "-0x1.9a877681df000p-3",
            "0x1.3755bc5847a1cp+0",
            "-0x1.90c6d69483000p-3",
            "0x1.35dce49ad36e2p+0",
            "-0x1.87120a645c000p-3",
            "0x1.34679984dd440p+0",
            "-0x1.7d68fb4143000p-3",
            "0x1.32f5cceffcb24p+0",
            "-0x1.73cb83c627000p-3",
            "0x1.3187775a10d49p+0",
            "-0x1.6a39a9b376000p-3",
            "0x1.301c8373e3990p+0",
            "-0x1.60b3154b7a000p-3",
            "0x1.2eb4ebb95f841p+0",
            "-0x1.5737d76243000p-3",
            "0x1.2d50a0219a9d1p+0",
            "-0x1.4dc7b8fc23000p-3",
            "0x1.2bef9a8b7fd2ap+0",
            "-0x1.4462c51d20000p-3",
            "0x1.2a91c7a0c1babp+0",
            "-0x1.3b08abc830000p-3",
            "0x1.293726014b530p+0",
            "-0x1.31b996b490000p-3",
            "0x1.27dfa5757a1f5p+0",
            "-0x1.2875490a44000p-3",
            "0x1.268b39b1d3bbfp+0",
            "-0x1.1f3b9f879a000p-3",
            "0x1.2539d838ff5bdp+0",
            "-0x1.160c8252ca000p-3",
            "0x1.23eb7aac9083bp+0",
            "-0x1.0ce7f57f72000p-3",
            "0x1.22a012ba940b6p+0",
            "-0x1.03cdc49fea000p-3",
            "0x1.2157996cc4132p+0",
            "-0x1.f57bdbc4b8000p-4",
            "0x1.201201dd2fc9bp+0",
            "-0x1.e370896404000p-4",
            "0x1.1ecf4494d480bp+0",
            "-0x1.d17983ef94000p-4",
            "0x1.1d8f5528f6569p+0",
            "-0x1.bf9674ed8a000p-4",
            "0x1.1c52311577e7cp+0",
            "-0x1.adc79202f6000p-4",
            "0x1.1b17c74cb26e9p+0",
            "-0x1.9c0c3e7288000p-4",
            "0x1.19e010c2c1ab6p+0",
            "-0x1.8a646b372c000p-4",
            "0x1.18ab07bb670bdp+0",
            "-0x1.78d01b3ac0000p-4",
            "0x1.1778a25efbcb6p+0",
            "-0x1.674f145380000p-4",
            "0x1.1648d354c31dap+0",
            "-0x1.55e0e6d878000p-4",
            "0x1.151b990275fddp+0",
            "-0x1.4485cdea1e000p-4",
            "0x1.13f0ea432d24cp+0",
            "-0x1.333d94d6aa000p-4",
            "0x1.12c8b7210f9dap+0",
            "-0x1.22079f8c56000p-4",
            "0x1.11a3028ecb531p+0",
            "-0x1.10e4698622000p-4",
            "0x1.107fbda8434afp+0",
            "-0x1.ffa6c6ad20000p-5",
            "0x1.0f5ee0f4e6bb3p+0",
            "-0x1.dda8d4a774000p-5",
            "0x1.0e4065d2a9fcep+0",
            "-0x1.bbcece4850000p-5",
            "0x1.0d244632ca521p+0",
            "-0x1.9a1894012c000p-5",
            "0x1.0c0a77ce2981ap+0",
            "-0x1.788583302c000p-5",
            "0x1.0af2f83c636d1p+0",
            "-0x1.5715e67d68000p-5",
            "0x1.09ddb98a01339p+0",
            "-0x1.35c8a49658000p-5",
            "0x1.08cabaf52e7dfp+0",
            "-0x1.149e364154000p-5",
            "0x1.07b9f2f4e28fbp+0",
            "-0x1.e72c082eb8000p-6",
            "0x1.06ab58c358f19p+0",
            "-0x1.a55f152528000p-6",
            "0x1.059eea5ecf92cp+0",
            "-0x1.63d62cf818000p-6",
            "0x1.04949cdd12c90p+0",
            "-0x1.228fb8caa0000p-6",
            "0x1.038c6c6f0ada9p+0",
            "-0x1.c317b20f90000p-7",
            "0x1.02865137932a9p+0",
            "-0x1.419355daa0000p-7",
            "0x1.0182427ea7348p+0",
            "-0x1.81203c2ec0000p-8",
            "0x1.008040614b195p+0",
            "-0x1.0040979240000p-9",
            "0x1.fe01ff726fa1ap-1",
            "0x1.feff384900000p-9",
            "0x1.fa11cc261ea74p-1",
            "0x1.7dc41353d0000p-7",
            "0x1.f6310b081992ep-1",
            "0x1.3cea3c4c28000p-6",
            "0x1.f25f63ceeadcdp-1",
            "0x1.b9fc114890000p-6",
            "0x1.ee9c8039113e7p-1",
            "0x1.1b0d8ce110000p-5",
            "0x1.eae8078cbb1abp-1",
            "0x1.58a5bd001c000p-5",
            "0x1.e741aa29d0c9bp-1",
            "0x1.95c8340d88000p-5",
            "0x1.e3a91830a99b5p-1",
            "0x1.d276aef578000p-5",
            "0x1.e01e009609a56p-1",
            "0x1.07598e598c000p-4",
            "0x1.dca01e577bb98p-1",
            "0x1.253f5e30d2000p-4",
            "0x1.d92f20b7c9103p-1",
            "0x1.42edd8b380000p-4",
            "0x1.d5cac66fb5ccep-1",
            "0x1.606598757c000p-4",
            "0x1.d272caa5ede9dp-1",
            "0x1.7da76356a0000p-4",
            "0x1.cf26e3e6b2ccdp-1",
            "0x1.9ab434e1c6000p-4",
            "0x1.cbe6da2a77902p-1",
            "0x1.b78c7bb0d6000p-4",
            "0x1.c8b266d37086dp-1",
            "0x1.d431332e72000p-4",
            "0x1.c5894bd5d5804p-1",
            "0x1.f0a3171de6000p-4",
            "0x1.c26b533bb9f8cp-1",
            "0x1.067152b914000p-3",
            "0x1.bf583eeece73fp-1",
            "0x1.147858292b000p-3",
            "0x1.bc4fd75db96c1p-1",
            "0x1.2266ecdca3000p-3",
            "0x1.b951e0c864a28p-1",
            "0x1.303d7a6c55000p-3",
            "0x1.b65e2c5ef3e2cp-1",
            "0x1.3dfc33c331000p-3",
            "0x1.b374867c9888bp-1",
            "0x1.4ba366b7a8000p-3",
            "0x1.b094b211d304ap-1",
            "0x1.5933928d1f000p-3",
            "0x1.adbe885f2ef7ep-1",
            "0x1.66acd2418f000p-3",
            "0x1.aaf1d31603da2p-1",
            "0x1.740f8ec669000p-3",
            "0x1.a82e63fd358a7p-1",
            "0x1.815c0f51af000p-3",
            "0x1.a5740ef09738bp-1",
            "0x1.8e92954f68000p-3",
            "0x1.a2c2a90ab4b27p-1",
            "0x1.9bb3602f84000p-3",
            "0x1.a01a01393f2d1p-1",
            "0x1.a8bed1c2c0000p-3",
            "0x1.9d79f24db3c1bp-1",
            "0x1.b5b515c01d000p-3",
            "0x1.9ae2505c7b190p-1",
            "0x1.c2967ccbcc000p-3",
            "0x1.9852ef297ce2fp-1",
            "0x1.cf635d5486000p-3",
            "0x1.95cbaeea44b75p-1",
            "0x1.dc1bd3446c000p-3",
            "0x1.934c69de74838p-1",
            "0x1.e8c01b8cfe000p-3",
            "0x1.90d4f2f6752e6p-1",
            "0x1.f5509c0179000p-3",
            "0x1.8e6528effd79dp-1",
            "0x1.00e6c121fb800p-2",
            "0x1.8bfce9fcc007cp-1",
            "0x1.071b80e93d000p-2",
            "0x1.899c0dabec30ep-1",
            "0x1.0d46b9e867000p-2",
            "0x1.87427aa2317fbp-1",
            "0x1.13687334bd000p-2",
            "0x1.84f00acb39a08p-1",
            "0x1.1980d67234800p-2",
            "0x1.82a49e8653e55p-1",
            "0x1.1f8ffe0cc8000p-2",
            "0x1.8060195f40260p-1",
            "0x1.2595fd7636800p-2",
            "0x1.7e22563e0a329p-1",
            "0x1.2b9300914a800p-2",
            "0x1.7beb377dcb5adp-1",
            "0x1.3187210436000p-2",
            "0x1.79baa679725c2p-1",
            "0x1.377266dec1800p-2",
            "0x1.77907f2170657p-1",
            "0x1.3d54ffbaf3000p-2",
            "0x1.756cadbd6130cp-1",
            "0x1.432eee32fe000p-2",
        )
    ]
)


@nb.njit(cache=True, inline="always")
def exp_glibc_applies(x):
    """True where :func:`exp_glibc` gives glibc's exp(x): 2^-54 <= |x| < 512."""
    a = abs(x)
    return a >= 5.551115123125783e-17 and a < 512.0


@nb.njit(cache=True, inline="always", error_model="numpy")
def exp_glibc(x, tab):
    """glibc's exp(x) (tab = :data:`EXP_TAB`) where :func:`exp_glibc_applies`, branch-free."""
    kd = _INVLN2N * x + _SHIFT
    ki = f64_to_bits(kd)
    kd = kd - _SHIFT
    r = fma(kd, _NEGLN2LON, fma(kd, _NEGLN2HIN, x))
    idx = (ki & np.uint64(127)) << np.uint64(1)
    tail = bits_to_f64(tab[idx])
    sbits = tab[idx + np.uint64(1)] + (ki << np.uint64(45))
    r2 = r * r
    tmp = fma(r2 * r2, fma(r, _C5, _C4), fma(r2, fma(r, _C3, _C2), tail + r))
    scale = bits_to_f64(sbits)
    return fma(scale, tmp, scale)


@nb.njit(cache=True, inline="always")
def log_glibc_applies(x):
    """True where :func:`log_glibc` gives glibc's log(x): x positive, normal, finite and outside
    [1 - 2^-4, 1 + 0x1.09p-4) (glibc's own polynomial near 1 is not copied)."""
    ix = f64_to_bits(x)
    top = ix >> np.uint64(48)
    return (ix - _NEAR1_LO) >= _NEAR1_SPAN and (top - np.uint64(0x0010)) < np.uint64(0x7FF0 - 0x0010)


@nb.njit(cache=True, inline="always", error_model="numpy")
def log_glibc(x, tab):
    """glibc's log(x) (tab = :data:`LOG_TAB`) where :func:`log_glibc_applies`, branch-free."""
    ix = f64_to_bits(x)
    tmp = ix - _OFF
    i = (tmp >> np.uint64(45)) & np.uint64(127)
    k = np.int64(tmp) >> np.int64(52)
    iz = ix - (tmp & (np.uint64(0xFFF) << np.uint64(52)))
    invc = tab[np.uint64(2) * i]
    logc = tab[np.uint64(2) * i + np.uint64(1)]
    r = fma(bits_to_f64(iz), invc, -1.0)
    kd = np.float64(k)
    w = fma(kd, _LN2HI, logc)
    hi = w + r
    lo = fma(kd, _LN2LO, (w - hi) + r)
    r2 = r * r
    p = fma(r2, fma(r, _A4, _A3), fma(r, _A2, _A1))
    return fma(r * r2, p, fma(r2, _A0, lo)) + hi
