void f(void)
{
	x();
}
/* never ends
void g(void) { y(); }
