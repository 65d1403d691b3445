#define M0(a,b) M1(b,a) ## x
M0(f,(g)) { M0(1,2) } IF(X)(Y) {{ ;; }
#define M1(a,b) M2(b,a) ## x
M1(f,(g)) { M1(1,2) } IF(X)(Y) {{ ;; }
#define M2(a,b) M3(b,a) ## x
M2(f,(g)) { M2(1,2) } IF(X)(Y) {{ ;; }
#define M3(a,b) M4(b,a) ## x
M3(f,(g)) { M3(1,2) } IF(X)(Y) {{ ;; }
#define M4(a,b) M5(b,a) ## x
M4(f,(g)) { M4(1,2) } IF(X)(Y) {{ ;; }
#define M5(a,b) M6(b,a) ## x
M5(f,(g)) { M5(1,2) } IF(X)(Y) {{ ;; }
#define M6(a,b) M7(b,a) ## x
M6(f,(g)) { M6(1,2) } IF(X)(Y) {{ ;; }
#define M7(a,b) M8(b,a) ## x
M7(f,(g)) { M7(1,2) } IF(X)(Y) {{ ;; }
#define M8(a,b) M9(b,a) ## x
M8(f,(g)) { M8(1,2) } IF(X)(Y) {{ ;; }
#define M9(a,b) M10(b,a) ## x
M9(f,(g)) { M9(1,2) } IF(X)(Y) {{ ;; }
#define M10(a,b) M11(b,a) ## x
M10(f,(g)) { M10(1,2) } IF(X)(Y) {{ ;; }
#define M11(a,b) M12(b,a) ## x
M11(f,(g)) { M11(1,2) } IF(X)(Y) {{ ;; }
#define M12(a,b) M13(b,a) ## x
M12(f,(g)) { M12(1,2) } IF(X)(Y) {{ ;; }
#define M13(a,b) M14(b,a) ## x
M13(f,(g)) { M13(1,2) } IF(X)(Y) {{ ;; }
#define M14(a,b) M15(b,a) ## x
M14(f,(g)) { M14(1,2) } IF(X)(Y) {{ ;; }
#define M15(a,b) M16(b,a) ## x
M15(f,(g)) { M15(1,2) } IF(X)(Y) {{ ;; }
#define M16(a,b) M17(b,a) ## x
M16(f,(g)) { M16(1,2) } IF(X)(Y) {{ ;; }
#define M17(a,b) M18(b,a) ## x
M17(f,(g)) { M17(1,2) } IF(X)(Y) {{ ;; }
#define M18(a,b) M19(b,a) ## x
M18(f,(g)) { M18(1,2) } IF(X)(Y) {{ ;; }
#define M19(a,b) M20(b,a) ## x
M19(f,(g)) { M19(1,2) } IF(X)(Y) {{ ;; }
#define M20(a,b) M21(b,a) ## x
M20(f,(g)) { M20(1,2) } IF(X)(Y) {{ ;; }
#define M21(a,b) M22(b,a) ## x
M21(f,(g)) { M21(1,2) } IF(X)(Y) {{ ;; }
#define M22(a,b) M23(b,a) ## x
M22(f,(g)) { M22(1,2) } IF(X)(Y) {{ ;; }
#define M23(a,b) M24(b,a) ## x
M23(f,(g)) { M23(1,2) } IF(X)(Y) {{ ;; }
#define M24(a,b) M25(b,a) ## x
M24(f,(g)) { M24(1,2) } IF(X)(Y) {{ ;; }
#define M25(a,b) M26(b,a) ## x
M25(f,(g)) { M25(1,2) } IF(X)(Y) {{ ;; }
#define M26(a,b) M27(b,a) ## x
M26(f,(g)) { M26(1,2) } IF(X)(Y) {{ ;; }
#define M27(a,b) M28(b,a) ## x
M27(f,(g)) { M27(1,2) } IF(X)(Y) {{ ;; }
#define M28(a,b) M29(b,a) ## x
M28(f,(g)) { M28(1,2) } IF(X)(Y) {{ ;; }
#define M29(a,b) M30(b,a) ## x
M29(f,(g)) { M29(1,2) } IF(X)(Y) {{ ;; }
#define M30(a,b) M31(b,a) ## x
M30(f,(g)) { M30(1,2) } IF(X)(Y) {{ ;; }
#define M31(a,b) M32(b,a) ## x
M31(f,(g)) { M31(1,2) } IF(X)(Y) {{ ;; }
#define M32(a,b) M33(b,a) ## x
M32(f,(g)) { M32(1,2) } IF(X)(Y) {{ ;; }
#define M33(a,b) M34(b,a) ## x
M33(f,(g)) { M33(1,2) } IF(X)(Y) {{ ;; }
#define M34(a,b) M35(b,a) ## x
M34(f,(g)) { M34(1,2) } IF(X)(Y) {{ ;; }
#define M35(a,b) M36(b,a) ## x
M35(f,(g)) { M35(1,2) } IF(X)(Y) {{ ;; }
#define M36(a,b) M37(b,a) ## x
M36(f,(g)) { M36(1,2) } IF(X)(Y) {{ ;; }
#define M37(a,b) M38(b,a) ## x
M37(f,(g)) { M37(1,2) } IF(X)(Y) {{ ;; }
#define M38(a,b) M39(b,a) ## x
M38(f,(g)) { M38(1,2) } IF(X)(Y) {{ ;; }
#define M39(a,b) M40(b,a) ## x
M39(f,(g)) { M39(1,2) } IF(X)(Y) {{ ;; }
