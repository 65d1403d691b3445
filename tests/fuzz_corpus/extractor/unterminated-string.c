void f(void)
{
	x("abc);
}
void g(void) { y(); }
