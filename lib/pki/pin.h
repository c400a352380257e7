/* The PIN that protects a subscriber's PKCS#12 file: read off a letter by
 * the holder and typed into a token, so its alphabet leaves out the
 * characters that look alike (0/O, 1/I/L); 32 symbols, so a random byte
 * maps onto one without bias, 12 of them: 60 bits. */
#ifndef CB_PIN_H
#define CB_PIN_H

#define CB_PIN_LEN 12

/* A fresh PIN from the private CSPRNG into out; 0, or -1 when it has no
 * randomness to give. The random bytes are wiped. */
int cb_pin_generate(char out[CB_PIN_LEN + 1]);

#endif
