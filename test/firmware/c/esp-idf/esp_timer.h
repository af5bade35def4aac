/* TEST DOUBLE of ESP-IDF's esp_timer.h (esp_timer_get_time only) for the host compile of the
 * ESP-IDF example in test/firmware/integrations.test.ts. */
#ifndef ESP_TIMER_DOUBLE_H
#define ESP_TIMER_DOUBLE_H
#include <stdint.h>
int64_t esp_timer_get_time(void);
#endif
