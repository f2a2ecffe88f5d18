#include <stdio.h>

int main(void) {
  puts("hello, lockstep");
  return 0;
}
